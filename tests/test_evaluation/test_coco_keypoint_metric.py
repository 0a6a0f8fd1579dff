"""CocoKeypointMetric against pycocotools run directly on the same
detections."""
import contextlib
import io
import os.path as osp

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rethink_mmdet.datasets.synthetic_coco_keypoints import SYNTHETIC_SIGMA
from rethink_mmdet.evaluation import CocoKeypointMetric

SIGMAS = [SYNTHETIC_SIGMA] * 5


def _ann_file(root):
    return osp.join(root, 'annotations', 'keypoints_val.json')


def _detections(coco, seed=0):
    """COCO-format keypoint detections: the labelled objects with noise of
    a few pixels, every third one missed, plus one false positive per
    image."""
    rng = np.random.default_rng(seed)
    detections = []
    for img_id in coco.getImgIds():
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img_id)):
            if ann['id'] % 3 == 0:
                continue
            points = np.array(ann['keypoints'], float).reshape(-1, 3)
            points[:, :2] += rng.normal(0, 2.0, size=(len(points), 2))
            points[:, 2] = rng.uniform(0.1, 1, size=len(points))
            detections.append(dict(
                image_id=img_id, category_id=1, score=float(rng.uniform()),
                keypoints=points.reshape(-1).tolist()))
        false = np.tile([60., 60., 0.5], 5) + rng.normal(0, 20, 15)
        detections.append(dict(image_id=img_id, category_id=1, score=0.3,
                               keypoints=false.tolist()))
    return detections


def _direct_cocoeval(coco, detections):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_eval = COCOeval(coco, coco.loadRes(detections), 'keypoints')
        coco_eval.params.kpt_oks_sigmas = np.array(SIGMAS)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return coco_eval.stats


def _as_data_samples(coco, detections):
    """The same detections as the model outputs them: continuous
    coordinates (pixel index + 0.5), labels from 0."""
    samples = []
    for img_id in coco.getImgIds():
        mine = [d for d in detections if d['image_id'] == img_id]
        points = np.array([d['keypoints'] for d in mine]).reshape(
            len(mine), -1, 3)
        samples.append(dict(img_id=img_id, pred_instances=dict(
            labels=torch.zeros(len(mine), dtype=torch.long),
            scores=torch.tensor([d['score'] for d in mine]),
            keypoints=torch.from_numpy(points[..., :2] + 0.5),
            keypoint_scores=torch.from_numpy(points[..., 2]))))
    return samples


def test_metric_equals_pycocotools_on_the_same_detections(
        tiny_coco_keypoints):
    ann_file = _ann_file(tiny_coco_keypoints)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(ann_file)
    detections = _detections(coco)
    expected = _direct_cocoeval(coco, detections)
    assert 0.1 < expected[0] < 0.95, 'a test that can tell metrics apart'

    metric = CocoKeypointMetric(ann_file=ann_file, sigmas=SIGMAS)
    metric.dataset_meta = dict(classes=('house', ))
    metric.process({}, _as_data_samples(coco, detections))
    results = metric.evaluate(size=len(coco.getImgIds()))
    names = ['mAP', 'mAP_50', 'mAP_75', 'mAP_m', 'mAP_l']
    for name, value in zip(names, expected):
        assert results[f'coco/keypoints_{name}'] == pytest.approx(
            round(value, 3)), name


def test_perfect_detections_score_one(tiny_coco_keypoints):
    # The synthetic keypoints are valid for COCOeval: ground truth as
    # detections gives AP 1.
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(_ann_file(tiny_coco_keypoints))
    detections = [dict(image_id=a['image_id'], category_id=1, score=1.0,
                       keypoints=a['keypoints'])
                  for a in coco.loadAnns(coco.getAnnIds())
                  if a['num_keypoints'] > 0]
    assert _direct_cocoeval(coco, detections)[0] == pytest.approx(1.0)


def test_no_detections_is_zero_ap(tiny_coco_keypoints):
    metric = CocoKeypointMetric(ann_file=_ann_file(tiny_coco_keypoints),
                                sigmas=SIGMAS)
    metric.dataset_meta = dict(classes=('house', ))
    empty = dict(labels=torch.zeros(0, dtype=torch.long),
                 scores=torch.zeros(0), keypoints=torch.zeros(0, 5, 2),
                 keypoint_scores=torch.zeros(0, 5))
    metric.process({}, [dict(img_id=1, pred_instances=empty)])
    assert metric.evaluate(size=1)['coco/keypoints_mAP'] == 0.0


def test_sigmas_must_match_the_keypoints(tiny_coco_keypoints):
    ann_file = _ann_file(tiny_coco_keypoints)
    with pytest.raises(ValueError, match='sigmas has 3 values but .* 5'):
        CocoKeypointMetric(ann_file=ann_file, sigmas=[0.1] * 3)
    with pytest.raises(ValueError, match='set sigmas to 5 values'):
        CocoKeypointMetric(ann_file=ann_file)
