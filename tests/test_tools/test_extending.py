"""A user's own backbone from scratch, as docs/extending.md shows it: a
config of a few lines over a row config, checked by check_scratch_ready.py
and trained through tools/train.py on the synthetic data."""
import glob
import json
import math
import os.path as osp
import subprocess
import sys

import pytest

from rethink_mmdet.testing import (REPO_ROOT, as_cli_options, config_path,
                                   read_run_checkpoint, short_run_overrides,
                                   synthetic_data_overrides)

pytestmark = pytest.mark.slow

# Res2Net has no example config: what a user would write for it.
USER_CONFIG = '''\
# Mask R-CNN Res2Net-50 32w x 4s FPN, GN everywhere, random init, 6x:
# the R50 scratch row with another ResNet-family backbone. 32w, not the
# usual 26w, whose 104-channel layers GN(32) cannot divide.
_base_ = {base!r}
model = dict(backbone=dict(type='Res2Net', scales=4, base_width=32))
'''


def _run(command):
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)


def test_user_config_for_a_new_backbone_checks_and_trains(tmp_path,
                                                          tiny_coco):
    base = config_path(
        'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    config = tmp_path / 'mask-rcnn_r2-50-scratch_fpn_gn-all_6x_coco.py'
    config.write_text(USER_CONFIG.format(base=base))
    assert len(config.read_text().splitlines()) <= 15

    check = _run([sys.executable, 'tools/misc/check_scratch_ready.py',
                  str(config)])
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
    assert 'verdict: ready to train from scratch' in check.stdout

    work_dir = tmp_path / 'run'
    train = _run([sys.executable, 'tools/train.py', str(config),
                  '--work-dir', str(work_dir),
                  *as_cli_options({
                      **synthetic_data_overrides(str(config), tiny_coco),
                      **short_run_overrides(max_iters=2, batch_size=1),
                      # Training is what this test is about: no validation,
                      # and fewer RoIs for the full-width heads on a CPU.
                      'train_cfg.val_begin': 10,
                      'model.train_cfg.rpn_proposal.max_per_img': 100,
                      'model.train_cfg.rcnn.sampler.num': 64})])
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-5000:]

    state = read_run_checkpoint(work_dir / 'iter_2.pth')['state_dict']
    # Res2Net's multi-scale convs were built, initialized and trained.
    assert 'backbone.layer1.0.convs.2.weight' in state
    [scalars] = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                   'scalars.json'))
    with open(scalars) as f:
        losses = [json.loads(line)['loss'] for line in f
                  if '"loss"' in line]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
