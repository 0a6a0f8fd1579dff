"""The keypoint toy through tools/train.py and tools/test.py, as a user
runs them."""
import pickle
import subprocess
import sys

import pytest

from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_KEYPOINT_CONFIG,
    as_cli_options,
    toy_overrides,
)

pytestmark = pytest.mark.slow


def _run(command):
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, (
        f'{" ".join(command)} failed ({result.returncode}):\n'
        f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result.stdout + result.stderr


def test_keypoint_toy_trains_and_evaluates(tmp_path, tiny_coco_keypoints):
    overrides = as_cli_options(toy_overrides(
        tiny_coco_keypoints, max_iters=3, config=TOY_KEYPOINT_CONFIG))
    work_dir = tmp_path / 'run'
    log = _run([sys.executable, 'tools/train.py', TOY_KEYPOINT_CONFIG,
                '--work-dir', str(work_dir), *overrides])
    assert 'loss_keypoint' in log
    checkpoint = work_dir / 'iter_3.pth'
    assert checkpoint.is_file()

    preds = tmp_path / 'preds.pkl'
    log = _run([sys.executable, 'tools/test.py', TOY_KEYPOINT_CONFIG,
                str(checkpoint), '--work-dir', str(tmp_path / 'test'),
                '--out', str(preds), *overrides])
    for key in ('coco/bbox_mAP', 'coco/keypoints_mAP',
                'coco/keypoints_mAP_50', 'coco/keypoints_mAP_m'):
        assert key in log
    with open(preds, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 8  # the val split
    pred = results[0]['pred_instances']
    assert pred['keypoints'].shape[1:] == (5, 2)
    assert pred['keypoint_scores'].shape == pred['keypoints'].shape[:2]
