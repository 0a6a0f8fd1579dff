"""make gpu-check: on this CPU machine the command stops with one line;
its pieces run here on CPU processes at toy size (the whole command with
``--device cpu``, iterations and test through the launchers included, runs
in the gpu-accept rehearsal: tests/test_install/test_gpu_accept.py)."""
import math
import subprocess
import sys

import pytest

from rethink_mmdet.acceptance import gpu_node
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG, tool_env


def test_without_a_gpu_it_fails_with_one_line():
    result = subprocess.run([sys.executable, 'tools/misc/gpu_check.py'],
                            cwd=REPO_ROOT, capture_output=True, text=True,
                            env=dict(tool_env(), CUDA_VISIBLE_DEVICES=''))
    assert result.returncode == 1
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith('error: no GPU: torch ')


def test_ops_on_cpu():
    assert 'nms and RoIAlign forward/backward correct on cpu' in \
        gpu_node.ops('cpu')
    with pytest.raises(gpu_node.GpuCheckError, match='sees no GPU'):
        gpu_node.ops('cuda')


def test_amp_fp16_step_failure_is_one_line():
    # mmcv 2.1.0's CPU nms takes float32 only, so under CPU fp16 autocast
    # the step stops there; the piece reports it as one line. (Its success
    # path needs a GPU: fp16 AMP steps ran on the H200, docs/benchmarks.md.)
    with pytest.raises(gpu_node.GpuCheckError) as error:
        gpu_node.amp_step(TOY_CONFIG, 'cpu', 'float16', 64)
    assert str(error.value) == ('AMP float16 step on cpu: expected scalar '
                                'type Float but found Half')


def test_amp_bf16_step_runs_with_the_bf16_ops_patch():
    # compat._patch_bf16_ops runs mmcv's nms/RoIAlign in float32 under
    # bfloat16 autocast, so the step passes even on the CPU.
    result = gpu_node.amp_step(TOY_CONFIG, 'cpu', 'bfloat16', 64)
    assert math.isfinite(result['loss']) and result['loss'] > 0
    assert math.isfinite(result['grad_norm'])


@pytest.mark.slow
def test_any_sync_bn_over_gloo_equals_bn(tmp_path):
    assert gpu_node.sync_bn(2, 'cpu', str(tmp_path)) < 1e-4
