"""Channels-last (NHWC) memory layout for a model's convolutions.

On GPUs with tensor cores, cuDNN runs NHWC convolutions without the
layout transposes it inserts around NCHW ones; a convolution's output
follows its weight's layout, so converting the parameters is enough (the
input batch need not be converted). Whether a GroupNorm network gains
depends on the GPU: measure with ``benchmark_train.py --modes
channels-last`` (docs/benchmarks.md).
"""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


def to_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Converts the 4-d parameters and buffers of ``model`` (in place) to
    ``torch.channels_last``; other tensors are unchanged."""
    return model.to(memory_format=torch.channels_last)


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Puts the model in channels-last layout before training starts.

    Use: ``custom_hooks = [dict(type='ChannelsLastHook')]`` (or
    ``--cfg-options "custom_hooks=[dict(type='ChannelsLastHook')]"``). It
    runs before the optimizer's first step; the optimizer holds the same
    parameter objects, whose storage ``Module.to`` replaces in place.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model
        to_channels_last(model.module if is_model_wrapper(model) else model)
