"""Keypoint data: the synthetic variant, CocoKeypointDataset, flip partners."""
import json
import os.path as osp

import numpy as np
import pytest
from mmdet.utils import register_all_modules

from rethink_mmdet.datasets import CocoKeypointDataset, keypoint_flip_indices
from rethink_mmdet.datasets.synthetic_coco_keypoints import (
    KEYPOINT_NAMES,
    make_synthetic_coco_keypoints,
)

register_all_modules()

COCO_PERSON = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
               'left_shoulder', 'right_shoulder', 'left_elbow',
               'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
               'right_hip', 'left_knee', 'right_knee', 'left_ankle',
               'right_ankle']


def test_flip_partners_from_names():
    assert keypoint_flip_indices(COCO_PERSON) == [
        0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    assert keypoint_flip_indices(KEYPOINT_NAMES) == [0, 2, 1, 4, 3]
    with pytest.raises(ValueError, match="'left_paw' has no 'right_paw'"):
        keypoint_flip_indices(['nose', 'left_paw'])


def _load(root, split='train'):
    with open(osp.join(root, 'annotations', f'keypoints_{split}.json')) as f:
        return json.load(f)


def test_synthetic_keypoints_are_coco_keypoints(tiny_coco_keypoints):
    coco = _load(tiny_coco_keypoints)
    assert coco['categories'][0]['keypoints'] == list(KEYPOINT_NAMES)
    visibilities = set()
    for ann in coco['annotations']:
        points = np.array(ann['keypoints']).reshape(-1, 3)
        assert ann['num_keypoints'] == int((points[:, 2] > 0).sum())
        visibilities |= set(points[:, 2].tolist())
        labelled = points[points[:, 2] > 0, :2] + 0.5  # pixel index -> xy
        x, y, w, h = ann['bbox']
        # The vertices are the polygon's, so they touch its box.
        assert (labelled >= [x - 0.01, y - 0.01]).all()
        assert (labelled <= [x + w + 0.01, y + h + 0.01]).all()
    assert {0, 2} <= visibilities  # unlabelled objects and visible points


def test_keypoint_variant_is_deterministic(tmp_path):
    for name in ('a', 'b'):
        make_synthetic_coco_keypoints(str(tmp_path / name), num_train=3,
                                      num_val=1, seed=4)
    assert _load(tmp_path / 'a') == _load(tmp_path / 'b')


def _dataset(root, **kwargs):
    return CocoKeypointDataset(
        data_root=root + '/', ann_file='annotations/keypoints_train.json',
        data_prefix=dict(img=''), metainfo=dict(classes=('house', )),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='LoadKeypoints'),
                  dict(type='PackKeypointDetInputs')], **kwargs)


def test_dataset_reads_keypoints_in_continuous_coordinates(
        tiny_coco_keypoints):
    dataset = _dataset(tiny_coco_keypoints, min_keypoints_per_image=0)
    assert dataset.metainfo['keypoint_flip_indices'] == [0, 2, 1, 4, 3]
    coco = _load(tiny_coco_keypoints)
    first = coco['annotations'][0]
    info = dataset.get_data_info(0)
    assert info['img_id'] == first['image_id']
    expected = np.array(first['keypoints'], np.float32).reshape(5, 3)
    expected[expected[:, 2] > 0, :2] += 0.5
    np.testing.assert_allclose(info['instances'][0]['keypoints'], expected)
    sample = dataset[0]['data_samples']
    assert sample.gt_instances.keypoints.shape == (
        len(sample.gt_instances), 5, 3)


def test_training_skips_images_without_labelled_keypoints(tmp_path):
    make_synthetic_coco_keypoints(str(tmp_path), num_train=3, num_val=1,
                                  seed=4)
    path = osp.join(tmp_path, 'annotations', 'keypoints_train.json')
    coco = _load(tmp_path)
    first_image = coco['images'][0]['id']
    for ann in coco['annotations']:
        if ann['image_id'] == first_image:
            ann['keypoints'] = [0] * 15
            ann['num_keypoints'] = 0
    with open(path, 'w') as f:
        json.dump(coco, f)
    dataset = _dataset(str(tmp_path))
    kept = [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))]
    assert first_image not in kept and len(kept) == 2
    assert len(_dataset(str(tmp_path), min_keypoints_per_image=0)) == 3


def test_a_file_without_keypoints_is_a_clear_error(tiny_coco):
    with pytest.raises(ValueError, match='has no "keypoints" list'):
        CocoKeypointDataset(
            data_root=tiny_coco + '/',
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img=''), metainfo=dict(classes=('circle', )),
            pipeline=[])
