import pytest

from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    """A small synthetic COCO dataset shared by the tests of one worker."""
    root = tmp_path_factory.mktemp('synthetic_coco')
    make_synthetic_coco(str(root), num_train=16, num_val=8, seed=3)
    return str(root)


@pytest.fixture(scope='session')
def tiny_coco_keypoints(tmp_path_factory):
    """A small synthetic keypoint dataset (houses, 5 keypoints)."""
    from rethink_mmdet.datasets.synthetic_coco_keypoints import (
        make_synthetic_coco_keypoints,
    )
    root = tmp_path_factory.mktemp('synthetic_coco_keypoints')
    make_synthetic_coco_keypoints(str(root), num_train=16, num_val=8, seed=3)
    return str(root)
