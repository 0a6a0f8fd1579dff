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

from rethink_mmdet.testing import (
    REPO_ROOT,
    as_cli_options,
    config_path,
    read_run_checkpoint,
    short_run_overrides,
    synthetic_data_overrides,
)

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


def _check_and_train(config, work_dir, data_root):
    """check_scratch_ready.py says ready, then tools/train.py trains the
    config 2 iterations on the synthetic data; returns the checker's
    report and the trained state dict."""
    check = _run([sys.executable, 'tools/misc/check_scratch_ready.py',
                  str(config)])
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
    assert 'verdict: ready to train from scratch' in check.stdout

    train = _run([sys.executable, 'tools/train.py', str(config),
                  '--work-dir', str(work_dir),
                  *as_cli_options({
                      **synthetic_data_overrides(str(config), data_root),
                      **short_run_overrides(max_iters=2, batch_size=1),
                      # Training is what this test is about: no validation,
                      # and fewer RoIs for the full-width heads on a CPU.
                      'train_cfg.val_begin': 10,
                      'model.train_cfg.rpn_proposal.max_per_img': 100,
                      'model.train_cfg.rcnn.sampler.num': 64})])
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-5000:]

    state = read_run_checkpoint(work_dir / 'iter_2.pth')['state_dict']
    [scalars] = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                   'scalars.json'))
    with open(scalars) as f:
        losses = [json.loads(line)['loss'] for line in f
                  if '"loss"' in line]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    return check.stdout, state


def test_user_config_for_a_new_backbone_checks_and_trains(tmp_path,
                                                          tiny_coco):
    base = config_path(
        'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    config = tmp_path / 'mask-rcnn_r2-50-scratch_fpn_gn-all_6x_coco.py'
    config.write_text(USER_CONFIG.format(base=base))
    assert len(config.read_text().splitlines()) <= 15
    _, state = _check_and_train(config, tmp_path / 'run', tiny_coco)
    # Res2Net's multi-scale convs were built, initialized and trained.
    assert 'backbone.layer1.0.convs.2.weight' in state


def test_transformer_example_checks_and_trains(tmp_path, tiny_coco):
    """Swin-T (LayerNorm) from its own random init, GN and ScratchInit in
    the other parts: the checker names the policy, then it trains."""
    config = config_path('extending/mask-rcnn_swin-t-p4-w7-scratch_fpn_'
                         'ln-gn_6x_coco.py')
    report, state = _check_and_train(config, tmp_path / 'run', tiny_coco)
    assert ('init: backbone (SwinTransformer) initializes itself and '
            'refuses ScratchInit: its own random init applies') in report
    assert 'backbone.stages.2.blocks.5.attn.w_msa.qkv.weight' in state
