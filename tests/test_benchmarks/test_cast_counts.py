"""The cast counter of benchmark_casts.py on a conv -> GN -> conv block
(the counts are the benchmark's; here only that they count right)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import rethink_mmdet  # noqa: F401
from rethink_mmdet.benchmarks.cast_counts import (
    count_profile,
    cuda_autocast_policy,
)
from rethink_mmdet.models.layers import AutocastGroupNorm

N, C, H = 2, 16, 8  # input 2 x 16 x 8 x 8


def _counts(norm):
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(C, C, 3, padding=1), norm,
                          nn.Conv2d(C, C, 3, padding=1))
    x = torch.randn(N, C, H, H)
    with cuda_autocast_policy(), profile(
            activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = block(x)
        out.float().sum().backward()
    return count_profile(prof)


def test_cuda_policy_casts_group_norm_up_and_autocast_gn_does_not():
    plain = _counts(nn.GroupNorm(4, C))
    low = _counts(AutocastGroupNorm(C, 4))
    acts = N * C * H * H
    # Both cast x and the convs' weights and biases down, and each of those
    # casts' gradients back. The emulated fp32 GN adds 4 activation casts
    # of 6 bytes an element (bf16 <-> fp32): its input up, the second
    # conv's input down, and their gradients; AutocastGN adds 4 casts of
    # its (C,) weight and bias (down, and their gradients back up).
    extra = 4 * acts * 6 - 4 * C * 6
    assert (plain['cast_mb'] - low['cast_mb']) * 2**20 == extra
    assert plain['casts'] == low['casts']
    assert plain['cast_mb_by_caller']['emulated CUDA fp32 policy: '
                                      'group_norm'] * 2**20 == acts * 6


def test_the_policy_is_put_back():
    originals = F.group_norm, F.interpolate
    with cuda_autocast_policy():
        assert F.group_norm is not originals[0]
    assert (F.group_norm, F.interpolate) == originals
