"""COCO keypoint AP (pycocotools ``COCOeval(iouType='keypoints')``) for
MMDetection's evaluator, which has box, mask and panoptic metrics only."""
import contextlib
import io
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ...datasets.coco_keypoints import COCO_KEYPOINT_OFFSET

#: COCOeval's keypoint statistics, in its order, by our metric name.
STAT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_m', 'mAP_l', 'mAR', 'mAR_50',
              'mAR_75', 'mAR_m', 'mAR_l')


@METRICS.register_module()
class CocoKeypointMetric(BaseMetric):
    """Keypoint AP of ``pred_instances.keypoints`` against a COCO keypoints
    annotation file.

    Each detection is submitted as COCO expects: its box score as the
    instance score and ``[x, y, keypoint_score] * K`` with x, y as COCO
    pixel indices (continuous coordinates - 0.5). Reported (with ``prefix``
    ``coco``): ``coco/keypoints_mAP``, ``_mAP_50``, ``_mAP_75``, ``_mAP_m``,
    ``_mAP_l`` (COCO has no small keypoint objects) and the same for mAR.

    Args:
        ann_file: COCO keypoints annotation file (``person_keypoints_*``).
        sigmas: OKS sigma per keypoint; None uses pycocotools' 17 COCO
            person sigmas (and then needs 17 keypoints).
        collect_device: Device to gather results on ('cpu' or 'gpu').
        prefix: Prefix of the metric names.
        backend_args: File backend arguments for ``ann_file``.
    """
    default_prefix: Optional[str] = 'coco'

    def __init__(self, ann_file: str, sigmas: Optional[Sequence[float]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        with get_local_path(ann_file, backend_args=backend_args) as path:
            with contextlib.redirect_stdout(io.StringIO()):
                self._coco_gt = COCO(path)
        self.ann_file = ann_file
        cats = self._coco_gt.loadCats(self._coco_gt.getCatIds())
        counts = {len(c.get('keypoints', [])) for c in cats} - {0}
        if len(counts) != 1:
            raise ValueError(
                f'CocoKeypointMetric: {ann_file} needs categories with one '
                f'"keypoints" list; found keypoint counts {sorted(counts)}')
        self.num_keypoints = counts.pop()
        if sigmas is None and self.num_keypoints != 17:
            raise ValueError(
                f'CocoKeypointMetric: {ann_file} has {self.num_keypoints} '
                f'keypoints; pycocotools\' default sigmas are for COCO\'s 17, '
                f'so set sigmas to {self.num_keypoints} values')
        if sigmas is not None and len(sigmas) != self.num_keypoints:
            raise ValueError(
                f'CocoKeypointMetric: sigmas has {len(sigmas)} values but '
                f'{ann_file} has {self.num_keypoints} keypoints')
        self.sigmas = None if sigmas is None else np.asarray(sigmas, float)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            if 'keypoints' not in pred:
                raise KeyError(
                    'CocoKeypointMetric: predictions have no "keypoints"; '
                    'the model needs a KeypointRoIHead with a keypoint_head')
            self.results.append(dict(
                img_id=sample['img_id'],
                labels=pred['labels'].cpu().numpy(),
                scores=pred['scores'].cpu().numpy(),
                keypoints=pred['keypoints'].cpu().numpy(),
                keypoint_scores=pred['keypoint_scores'].cpu().numpy()))

    def results_to_coco(self, results: List[dict]) -> List[dict]:
        """COCO keypoint result dicts of the processed detections."""
        names = self.dataset_meta['classes'] if self.dataset_meta else None
        cat_ids = self._coco_gt.getCatIds(catNms=names) if names else \
            self._coco_gt.getCatIds()
        detections = []
        for result in results:
            for label, score, points, point_scores in zip(
                    result['labels'], result['scores'], result['keypoints'],
                    result['keypoint_scores']):
                flat = np.concatenate(
                    [points - COCO_KEYPOINT_OFFSET, point_scores[:, None]],
                    axis=1).reshape(-1)
                detections.append(dict(
                    image_id=int(result['img_id']),
                    category_id=cat_ids[int(label)],
                    keypoints=[float(v) for v in flat], score=float(score)))
        return detections

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        detections = self.results_to_coco(results)
        metrics = OrderedDict()
        if not detections:
            # pycocotools cannot load an empty result list; no detection
            # has AP 0.
            logger.warning('CocoKeypointMetric: no detections; AP is 0')
            return OrderedDict((f'keypoints_{n}', 0.0) for n in STAT_NAMES)
        stats = evaluate_keypoints(self._coco_gt, detections,
                                   [r['img_id'] for r in results],
                                   self.sigmas, logger.info)
        for name, value in zip(STAT_NAMES, stats):
            metrics[f'keypoints_{name}'] = round(float(value), 3)
        return metrics


def evaluate_keypoints(coco_gt: COCO, detections: List[dict],
                       img_ids: Sequence[int],
                       sigmas: Optional[np.ndarray] = None,
                       log=print) -> np.ndarray:
    """``COCOeval(iouType='keypoints')`` on ``img_ids``; returns its 10
    stats and passes its summary table to ``log``."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        coco_dt = coco_gt.loadRes(detections)
        coco_eval = COCOeval(coco_gt, coco_dt, iouType='keypoints')
        coco_eval.params.imgIds = sorted(set(int(i) for i in img_ids))
        if sigmas is not None:
            coco_eval.params.kpt_oks_sigmas = sigmas
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    log('\n' + out.getvalue())
    return coco_eval.stats
