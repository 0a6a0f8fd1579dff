"""Speed switches for the training step, all off by default.

Each trades generality for fewer or faster GPU kernels; none changes the
recipe (same network, same images, same losses up to float rounding). They
are off until a GPU measurement (``benchmark_train.py --modes``,
docs/benchmarks.md) shows they pay. Set in a config or on the command line
(``--cfg-options speed.channels_last=True``); the default runtime reads
them through :class:`SpeedSwitchesHook`:

- ``speed.fixed_shapes``: a list of ``(h, w)``; each batch is padded to the
  smallest that holds it (``FixedShapePad``) and cuDNN benchmarks its
  algorithms once per shape (``torch.backends.cudnn.benchmark``). With the
  default padding to a multiple of 32 the 1333x800 rows see dozens of batch
  shapes, each a new search;
- ``speed.channels_last``: the model's parameters in NHWC
  (:func:`~.channels_last.to_channels_last`; our ``AutocastGN`` keeps the
  layout through GroupNorm);
- ``speed.compile.enabled``: ``torch.compile`` of the backbone and the
  neck only (the dict's other keys are ``torch.compile``'s arguments,
  e.g. ``speed.compile.mode=max-autotune``), in place
  (``nn.Module.compile``: checkpoints keep their keys). The RoI heads, with
  data-dependent shapes and mmcv ops, stay eager; mmengine's own
  ``compile`` would compile the whole ``train_step``.
"""
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from .channels_last import to_channels_last

#: The switches and their defaults (off), as ``cfg.speed`` holds them.
SPEED_DEFAULTS = dict(fixed_shapes=None, channels_last=False,
                      compile=dict(enabled=False))


def apply_speed_switches(model: torch.nn.Module,
                         fixed_shapes: Optional[Sequence] = None,
                         channels_last: bool = False, compile=None) -> None:
    """Turns the given switches on for a built detector, in place.

    Args:
        model: The detector (unwrapped), with ``data_preprocessor``,
            ``backbone`` and ``neck``.
        fixed_shapes: ``(h, w)`` batch shapes to pad to, or None.
        channels_last: Convert the parameters to channels-last.
        compile: Whether to compile: a bool, or a dict of
            ``torch.compile`` arguments with ``enabled`` (default True).
    """
    if fixed_shapes:
        from mmdet.registry import MODELS
        preprocessor = model.data_preprocessor
        pad = MODELS.build(dict(
            type='FixedShapePad', sizes=[tuple(s) for s in fixed_shapes],
            pad_mask=getattr(preprocessor, 'pad_mask', False),
            mask_pad_value=getattr(preprocessor, 'mask_pad_value', 0)))
        augments = preprocessor.batch_augments
        if augments is None:
            augments = preprocessor.batch_augments = torch.nn.ModuleList()
        augments.append(pad)
        # With few input shapes the per-shape algorithm search pays off.
        torch.backends.cudnn.benchmark = True
    if channels_last:
        to_channels_last(model)
    options = dict(compile) if isinstance(compile, dict) else {}
    if options.pop('enabled', True) and compile:
        for part in (model.backbone, getattr(model, 'neck', None)):
            if part is not None:
                part.compile(**options)


@HOOKS.register_module()
class SpeedSwitchesHook(Hook):
    """Applies ``cfg.speed`` (:data:`SPEED_DEFAULTS`) before training.

    In ``configs/_base_/default_runtime.py``; with every switch off it does
    nothing. Runs before the optimizer's first step: channels-last replaces
    the parameters' storage in place, so the optimizer keeps them.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        speed = dict(SPEED_DEFAULTS, **runner.cfg.get('speed', {}))
        unknown = set(speed) - set(SPEED_DEFAULTS)
        if unknown:
            raise ValueError(f'speed: unknown switch(es) {sorted(unknown)}; '
                             f'known: {sorted(SPEED_DEFAULTS)}')
        model = runner.model
        apply_speed_switches(
            model.module if is_model_wrapper(model) else model, **speed)
