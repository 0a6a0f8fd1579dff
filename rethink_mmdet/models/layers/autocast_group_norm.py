"""GroupNorm that stays in the autocast dtype (``AutocastGN``).

CUDA autocast runs ``group_norm`` in float32 (it is on autocast's fp32
list): every GN input is cast up, its output stays float32, the ReLU and
residual adds after it run in float32 and the next convolution casts back
down. On a GN-everywhere detector that is two extra full-size casts per
norm layer and twice the bytes for the elementwise ops between them, which
is why ``--amp`` made the paper's GN rows slower on an H200
(docs/benchmarks.md). The GroupNorm kernels accumulate their statistics in
float32 whatever the input dtype, so running the layer in bfloat16/float16
costs only the rounding of its output, the same rounding a convolution's
output gets under autocast (timm's ``fast_group_norm``, composer's
low-precision GroupNorm do the same).

Outside autocast the layer is ``nn.GroupNorm`` exactly (same parameters,
same state-dict keys, same kernel), so checkpoints load either way.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor


def is_group_norm(norm_type) -> bool:
    """Whether a ``norm_cfg`` type (a registered name such as ``'GN'`` or
    ``'AutocastGN'``, or a class) builds a GroupNorm."""
    from mmdet.registry import MODELS as MMDET_MODELS
    cls = norm_type if isinstance(norm_type, type) else \
        MMDET_MODELS.get(norm_type)
    return isinstance(cls, type) and issubclass(cls, nn.GroupNorm)


@MODELS.register_module(name='AutocastGN')
class AutocastGroupNorm(nn.GroupNorm):
    """``nn.GroupNorm`` that, under autocast, runs in the autocast dtype.

    Registered as ``'AutocastGN'``: ``norm_cfg=dict(type='AutocastGN',
    num_groups=32)`` wherever ``type='GN'`` goes. Under autocast the input,
    weight and bias are cast to the autocast dtype and GroupNorm runs with
    autocast disabled (statistics in float32 inside the kernel, output in
    the autocast dtype); otherwise ``forward`` is ``nn.GroupNorm``'s.

    A channels-last input gives a channels-last output: CUDA's GroupNorm
    returns a contiguous (channels-first) tensor, which would make every
    following op and convolution convert the layout back
    (``ChannelsLastHook``).

    Args:
        num_channels: C, channels of the (N, C, *) input. First, because
            mmcv's ``build_norm_layer`` passes the channels positionally to
            every norm class other than ``nn.GroupNorm`` itself.
        num_groups: Groups the channels are divided into.
        eps: Added to the variance.
        affine: Learn a per-channel weight and bias.
        device: Device of the parameters.
        dtype: Dtype of the parameters.
    """

    def __init__(self, num_channels: int, num_groups: int,
                 eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None):
        super().__init__(num_groups, num_channels, eps, affine, device,
                         dtype)

    def forward(self, input: Tensor) -> Tensor:
        device = input.device.type
        if not torch.is_autocast_enabled(device):
            out = super().forward(input)
        else:
            dtype = torch.get_autocast_dtype(device)
            weight, bias = self.weight, self.bias
            with torch.autocast(device, enabled=False):
                out = F.group_norm(
                    input.to(dtype), self.num_groups,
                    None if weight is None else weight.to(dtype),
                    None if bias is None else bias.to(dtype), self.eps)
        if (input.dim() == 4 and not input.is_contiguous()
                and input.is_contiguous(memory_format=torch.channels_last)):
            out = out.contiguous(memory_format=torch.channels_last)
        return out
