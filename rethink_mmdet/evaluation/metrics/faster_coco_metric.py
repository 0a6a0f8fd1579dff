"""``FasterCocoMetric``: MMDetection's ``CocoMetric`` on faster-coco-eval.

pycocotools matches detections to ground truth in Python, and
``CocoMetric`` also writes every detection to a JSON file and reads it back
before evaluating; on COCO val2017 that is minutes per validation, and the
paper's curves validate many times per run. This metric keeps
``CocoMetric``'s arguments, ``process`` and result keys, hands the
predictions to faster-coco-eval (C++ matching and accumulation) in memory,
and computes the 12 summary numbers with pycocotools' formulas from the
accumulated precision/recall arrays, so the values are pycocotools' own
(``tests/test_evaluation/test_faster_coco_metric.py`` checks them).

Without faster-coco-eval installed it warns once and runs ``CocoMetric``
unchanged (same numbers, slower), so configs stay usable anywhere.
"""
import os.path as osp
import tempfile
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation import CocoMetric

# _recalls: mmdet's matching, so proposal_fast gives CocoMetric's numbers.
from mmdet.evaluation.functional import bbox_overlaps, print_recall_summary
from mmdet.evaluation.functional.recall import _recalls, set_recall_param
from mmdet.registry import METRICS
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from .mask_rle import encode_masks

try:
    import faster_coco_eval
except ImportError:  # the fallback below keeps evaluation working
    faster_coco_eval = None

#: ``CocoMetric``'s names of pycocotools' 12 ``stats`` entries.
STAT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l',
              'AR@100', 'AR@300', 'AR@1000', 'AR_s@1000', 'AR_m@1000',
              'AR_l@1000')


def coco_stats(coco_eval) -> np.ndarray:
    """pycocotools' ``COCOeval.summarize`` numbers (detection), computed
    from an accumulated evaluation's ``eval['precision']`` (T, R, K, A, M)
    and ``eval['recall']`` (T, K, A, M).

    faster-coco-eval's own summary differs where pycocotools is quirky:
    pycocotools' first AP uses ``maxDets=100`` whatever ``params.maxDets``
    holds (-1 when 100 is not among them), and 12 entries, not 14.

    Returns:
        (12,) float array, -1 where no entry is defined.
    """
    p = coco_eval.params
    max_dets = p.maxDets

    def summarize(ap: bool, iou: Optional[float] = None, area: str = 'all',
                  dets: int = 100) -> float:
        a = [i for i, label in enumerate(p.areaRngLbl) if label == area]
        m = [i for i, d in enumerate(max_dets) if d == dets]
        s = coco_eval.eval['precision' if ap else 'recall']
        if iou is not None:
            s = s[np.where(iou == np.asarray(p.iouThrs))[0]]
        s = s[..., a, :][..., m]
        s = s[s > -1]
        return -1. if s.size == 0 else float(np.mean(s))

    last = max_dets[2] if len(max_dets) > 2 else -1
    return np.array([
        summarize(True),
        summarize(True, iou=.5, dets=last),
        summarize(True, iou=.75, dets=last),
        *(summarize(True, area=a, dets=last)
          for a in ('small', 'medium', 'large')),
        *(summarize(False, dets=max_dets[i] if i < len(max_dets) else -1)
          for i in range(3)),
        *(summarize(False, area=a, dets=last)
          for a in ('small', 'medium', 'large')),
    ])


def _load_results(gt, annotations: List[dict], iou_type: str):
    """``gt.loadRes(annotations)`` for bbox or RLE segm results, with the
    mask areas computed in one call (one call per mask costs as much as the
    evaluation's matching).

    Args:
        gt: faster-coco-eval ``COCO`` of the ground truth.
        annotations: Detections as in a COCO results file, changed in place.
    """
    if not {a['image_id'] for a in annotations} <= set(gt.imgs):
        # pycocotools' loadRes check, with its words (CocoMetric's error).
        raise AssertionError('Results do not correspond to current coco set')
    if iou_type == 'segm':
        # No ``bbox`` (pycocotools adds the mask's): segm IoUs and area
        # ranges use the mask alone, and the box costs as much as the area.
        areas = faster_coco_eval.mask.area(
            [a['segmentation'] for a in annotations]).tolist()
    else:
        areas = [a['bbox'][2] * a['bbox'][3] for a in annotations]
    for index, ann in enumerate(annotations):
        ann.update(area=areas[index], id=index + 1, iscrowd=0)
    results = faster_coco_eval.COCO()
    results.dataset = dict(images=gt.dataset['images'],
                           categories=gt.dataset['categories'],
                           annotations=annotations)
    results.createIndex()
    return results


@METRICS.register_module()
class FasterCocoMetric(CocoMetric):
    """``CocoMetric`` computed with faster-coco-eval: a drop-in.

    Select it with ``val_evaluator = dict(type='FasterCocoMetric', ...)``;
    the arguments, the processed results and the returned keys and values
    are ``CocoMetric``'s (see its docstring), and so are the files it
    leaves with ``outfile_prefix`` (``.bbox.json``, ``.segm.json``, and
    ``.gt.json`` when the ground truth comes from the data samples).
    Differences: predictions are evaluated in memory (files are written
    only when ``outfile_prefix`` or ``format_only`` asks for them);
    ``use_mp_eval`` is ignored (the C++ evaluation is faster than
    pycocotools on all cores); the summary is logged, not printed;
    ``self.stats`` keeps the unrounded 12 numbers of the last evaluation,
    per metric. Where mmdet 3.3.0 crashes, this metric evaluates:
    ``iou_thrs`` given as a list (the numbers of the same thresholds as an
    array) and ``proposal_fast`` over images with different numbers of
    ground-truth boxes or proposals (mmdet's matching, pooled over images).

    Args:
        *args, **kwargs: As ``mmdet.evaluation.CocoMetric``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._faster_gt = None  # (pycocotools COCO it mirrors, faster COCO)
        self.stats: Dict[str, np.ndarray] = {}
        if faster_coco_eval is None:
            warnings.warn(
                'FasterCocoMetric: faster-coco-eval is not installed; '
                'evaluating with pycocotools (CocoMetric: same numbers, '
                'slower). Install it with `pip install faster-coco-eval`.')

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """``CocoMetric.process``, with the masks encoded from their boxes
        (:func:`encode_masks`: the same RLE, without a copy and a full scan
        per mask; docs/benchmarks.md)."""
        samples = []
        for sample in data_samples:
            pred = sample['pred_instances']
            if isinstance(pred.get('masks'), torch.Tensor):
                pred = dict(pred, masks=encode_masks(pred['masks']))
                sample = dict(sample, pred_instances=pred)
            samples.append(sample)
        super().process(data_batch, samples)

    def _faster_ground_truth(self):
        """faster-coco-eval's COCO over the same ground-truth dicts."""
        if self._faster_gt is None or self._faster_gt[0] is not self._coco_api:
            gt = faster_coco_eval.COCO()
            gt.dataset = self._coco_api.dataset  # shared, not copied
            gt.createIndex()
            self._faster_gt = (self._coco_api, gt)
        return self._faster_gt[1]

    def _coco_predictions(self, preds: Sequence[dict],
                          iou_type: str) -> List[dict]:
        """The detections ``results2json`` would write, as dicts in memory
        (segm without ``bbox``, as ``CocoMetric`` evaluates them)."""
        annotations = []
        for result in preds:
            image_id, labels = result['img_id'], result['labels']
            if iou_type == 'bbox':
                for box, score, label in zip(result['bboxes'].tolist(),
                                             result['scores'].tolist(),
                                             labels.tolist()):
                    annotations.append(dict(
                        image_id=image_id, category_id=self.cat_ids[label],
                        score=score, bbox=[box[0], box[1], box[2] - box[0],
                                           box[3] - box[1]]))
                continue
            scores = result.get('mask_scores', result['scores']).tolist()
            for mask, score, label in zip(result['masks'], scores,
                                          labels.tolist()):
                counts = mask['counts']
                annotations.append(dict(
                    image_id=image_id, category_id=self.cat_ids[label],
                    score=score, segmentation=dict(
                        size=mask['size'],
                        counts=counts.decode() if isinstance(counts, bytes)
                        else counts)))
        return annotations

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Computes ``CocoMetric``'s metrics from the processed results."""
        if faster_coco_eval is None or self.format_only:
            return super().compute_metrics(results)
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        if self._coco_api is None:
            # As CocoMetric: the converted ground truth is kept as
            # '{outfile_prefix}.gt.json' when there is a prefix.
            with tempfile.TemporaryDirectory() as tmp_dir:
                self._coco_api = COCO(self.gt_to_coco_json(
                    gts, self.outfile_prefix or osp.join(tmp_dir, 'results')))
        if self.cat_ids is None:
            self.cat_ids = self._coco_api.get_cat_ids(
                cat_names=self.dataset_meta['classes'])
        if self.img_ids is None:
            self.img_ids = self._coco_api.get_img_ids()
        if self.outfile_prefix is not None:  # the files CocoMetric leaves
            self.results2json(preds, self.outfile_prefix)

        eval_results = OrderedDict()
        for metric in self.metrics:
            logger.info(f'Evaluating {metric}...')
            if metric == 'proposal_fast':
                ar = self.fast_eval_recall(preds, self.proposal_nums,
                                           self.iou_thrs, logger=logger)
                for i, num in enumerate(self.proposal_nums):
                    eval_results[f'AR@{num}'] = ar[i]
                logger.info(''.join(f'\nAR@{num}\t{ar[i]:.4f}'
                                    for i, num in enumerate(
                                        self.proposal_nums)))
                continue
            items = self.metric_items
            for item in items or ():
                if item not in STAT_NAMES:
                    raise KeyError(f'metric item "{item}" is not supported')
            iou_type = 'bbox' if metric == 'proposal' else metric
            if iou_type == 'segm' and any('masks' not in p for p in preds):
                raise KeyError(f'{metric} is not in results')
            predictions = self._coco_predictions(preds, iou_type)
            if not predictions:  # CocoMetric stops at the first empty one
                logger.error(
                    'The testing results of the whole dataset is empty.')
                break
            coco_eval = self._evaluate(predictions, iou_type,
                                       use_cats=metric != 'proposal')
            stats = self.stats[metric] = coco_stats(coco_eval)
            self._log_summary(logger, metric, stats)
            if metric == 'proposal':
                for item in items or STAT_NAMES[6:]:
                    eval_results[item] = float(
                        f'{stats[STAT_NAMES.index(item)]:.3f}')
                continue
            if self.classwise:
                eval_results.update(
                    self._classwise(coco_eval.eval['precision'], logger))
            for item in items or STAT_NAMES[:6]:
                eval_results[f'{metric}_{item}'] = float(
                    f'{round(stats[STAT_NAMES.index(item)], 3)}')
            logger.info(f'{metric}_mAP_copypaste: ' +
                        ' '.join(f'{v:.3f}' for v in stats[:6]))
        return eval_results

    def fast_eval_recall(self, results: Sequence[dict],
                         proposal_nums: Sequence[int], iou_thrs,
                         logger=None) -> np.ndarray:
        """``CocoMetric``'s ``proposal_fast`` average recall per proposal
        number, also when images hold different numbers of ground-truth
        boxes: mmdet 3.3.0 stacks the per-image IoU matrices into one array,
        which numpy >= 1.24 refuses when their shapes differ (ValueError).
        The same boxes, matching and table, so the same numbers where mmdet
        runs."""
        proposal_nums, iou_thrs = set_recall_param(proposal_nums, iou_thrs)
        all_ious = np.empty(len(self.img_ids), dtype=object)
        for i, img_id in enumerate(self.img_ids):
            gt = [[x, y, x + w, y + h] for x, y, w, h in (
                a['bbox'] for a in self._coco_api.load_anns(
                    self._coco_api.get_ann_ids(img_ids=img_id))
                if not a.get('ignore', False) and not a['iscrowd'])]
            proposals = results[i]['bboxes']
            all_ious[i] = bbox_overlaps(
                np.array(gt, dtype=np.float32).reshape(-1, 4),
                proposals[:min(len(proposals), proposal_nums[-1]), :4]
            ) if gt else np.zeros((0, len(proposals)), dtype=np.float32)
        recalls = _recalls(all_ious, proposal_nums, iou_thrs)
        print_recall_summary(recalls, proposal_nums, iou_thrs, logger=logger)
        return recalls.mean(axis=1)

    def _evaluate(self, predictions: List[dict], iou_type: str,
                  use_cats: bool):
        """Runs faster-coco-eval with ``CocoMetric``'s parameters."""
        gt = self._faster_ground_truth()
        logger = MMLogger.get_current_instance()
        coco_eval = faster_coco_eval.COCOeval_faster(
            gt, _load_results(gt, predictions, iou_type), iou_type,
            print_function=logger.debug)
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.params.maxDets = list(self.proposal_nums)
        # An array, whatever the config gave: pycocotools' summary compares
        # it with 0.5 and 0.75 (a list crashes CocoMetric there).
        coco_eval.params.iouThrs = np.asarray(self.iou_thrs, dtype=float)
        coco_eval.params.useCats = int(use_cats)
        coco_eval.evaluate()
        coco_eval.accumulate()
        return coco_eval

    @staticmethod
    def _log_summary(logger, metric: str, stats: np.ndarray) -> None:
        """The 12 summary numbers (pycocotools prints these to stdout)."""
        logger.info(f'{metric} summary: ' + ', '.join(
            f'{name} {value:.3f}' for name, value in zip(STAT_NAMES, stats)))

    def _classwise(self, precisions: np.ndarray, logger) -> Dict[str, float]:
        """Per-category AP (``CocoMetric(classwise=True)``): the
        ``{name}_precision`` keys and the logged table.

        Args:
            precisions: (T, R, K, A, M) accumulated precision.
        """
        assert len(self.cat_ids) == precisions.shape[2]

        def mean_ap(p: np.ndarray) -> float:
            p = p[p > -1]
            return float(np.mean(p)) if p.size else float('nan')

        keys, rows = {}, []
        for idx, cat_id in enumerate(self.cat_ids):
            name = self._coco_api.loadCats(cat_id)[0]['name']
            ap = mean_ap(precisions[:, :, idx, 0, -1])
            keys[f'{name}_precision'] = round(ap, 3)
            rows.append([name, f'{round(ap, 3)}'] + [
                f'{round(mean_ap(p), 3)}' for p in (
                    precisions[0, :, idx, 0, -1], precisions[5, :, idx, 0,
                                                             -1],
                    *(precisions[:, :, idx, a, -1] for a in (1, 2, 3)))])
        table = [['category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m',
                  'mAP_l']] + rows
        logger.info('\n' + AsciiTable(table).table)
        return keys
