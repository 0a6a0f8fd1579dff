"""What the training-step modes of benchmark_train.py rest on: mmcv's
nms and RoIAlign under bfloat16 (a compat patch) and channels-last
parameters (``ChannelsLastHook``)."""
import pytest
import torch

import rethink_mmdet  # noqa: F401  (applies the patches)
from rethink_mmdet import compat


def _boxes(n=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 50
    wh = torch.rand(n, 2, generator=g) * 30 + 5
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g)


def test_nms_takes_bfloat16_and_keeps_its_dtype():
    from mmcv.ops import batched_nms
    boxes, scores = _boxes()
    with pytest.raises(RuntimeError):  # why the patch exists
        compat.ORIGINALS['nms'](boxes.bfloat16(), scores.bfloat16(), 0.5)
    idxs = torch.zeros(len(boxes), dtype=torch.long)
    dets, keep = batched_nms(boxes.bfloat16(), scores.bfloat16(), idxs,
                             dict(type='nms', iou_threshold=0.5))
    ref_dets, ref_keep = batched_nms(boxes.bfloat16().float(),
                                     scores.bfloat16().float(), idxs,
                                     dict(type='nms', iou_threshold=0.5))
    assert torch.equal(keep, ref_keep)
    assert dets.dtype == torch.bfloat16


def test_roi_align_takes_bfloat16_and_matches_float32():
    from mmcv.ops import RoIAlign
    feats = torch.randn(1, 4, 16, 16)
    rois = torch.tensor([[0, 1., 2., 9., 12.], [0, 0., 0., 15., 15.]])
    layer = RoIAlign((7, 7), 0.5, 0)
    with pytest.raises(RuntimeError):
        compat.ORIGINALS['RoIAlign.forward'](layer, feats.bfloat16(),
                                             rois.bfloat16())
    out = layer(feats.bfloat16(), rois)
    assert out.dtype == torch.bfloat16
    ref = layer(feats.bfloat16().float(), rois)
    torch.testing.assert_close(out.float(), ref, rtol=1e-2, atol=1e-2)
    # Gradients flow back through the float32 computation.
    x = feats.bfloat16().requires_grad_()
    layer(x, rois).float().sum().backward()
    assert x.grad.dtype == torch.bfloat16 and x.grad.abs().sum() > 0


def test_channels_last_hook_converts_the_model_before_training():
    from mmengine.hooks import Hook

    from rethink_mmdet.engine import ChannelsLastHook
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.GroupNorm(2, 4))

    class Runner:
        pass

    runner = Runner()
    runner.model = model
    hook = ChannelsLastHook()
    assert isinstance(hook, Hook)
    conv = model[0].weight
    assert not conv.is_contiguous(memory_format=torch.channels_last)
    hook.before_train(runner)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    out = model(torch.randn(2, 3, 8, 8))
    assert out.is_contiguous(memory_format=torch.channels_last)
