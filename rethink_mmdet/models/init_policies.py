"""The two init policies: ``scratch`` (random init) and ``imagenet``.

The paper (docs/recipe.md) initializes every convolution of backbone, neck and
heads with MSRA / Kaiming normal (``fan_out``, ReLU gain), sets normalization
layers to the identity (gamma 1, beta 0; no zero-init of a block's last
gamma) and keeps the usual small-normal init for the last classification and
regression layers. ``ScratchInit`` does exactly that, as an mmengine weight
initializer, so a config selects it per component with
``init_cfg=dict(type='ScratchInit')``.

Before initializing, it refuses a component that cannot train from scratch:
a frozen parameter or a BatchNorm kept in eval mode (``norm_eval=True``)
leaves random weights or random statistics untrained for the whole run
(the full list, shared with ``tools/misc/check_scratch_ready.py``, is in
:mod:`rethink_mmdet.models.scratch_check`).

The ``imagenet`` policy is mmengine's ``Pretrained`` init with an
``imagenet://NAME`` checkpoint, which this module resolves to a local file
(``$RETHINK_IMAGENET_DIR/NAME.pth``, for offline GPU nodes) or to the public
ImageNet model MMDetection uses for that backbone; each name, its address
and the input it expects are in :mod:`.imagenet_weights`.
"""
from typing import Dict, Optional

import torch.nn as nn
from mmengine.model.weight_init import BaseInit
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader

# Re-exported: the imagenet:// names (IMAGENET_CHECKPOINTS by their old
# name) and scratch_problems, which the guard and the checker share.
from .imagenet_weights import (  # noqa: F401
    IMAGENET_DIR_ENV,
    IMAGENET_WEIGHTS,
    resolve_imagenet_checkpoint,
)
from .scratch_check import NORM_TYPES, scratch_problems  # noqa: F401

#: ``imagenet://NAME`` -> its public address (None: made locally).
IMAGENET_CHECKPOINTS = {name: w.url for name, w in IMAGENET_WEIGHTS.items()}

#: Std of the normal init of each head's last layers, by module name: those
#: mmdet gives them (BBoxHead 0.01/0.001, RPNHead 0.01), as Detectron does.
LAST_LAYER_STD = dict(
    fc_cls=0.01, fc_reg=0.001, rpn_cls=0.01, rpn_reg=0.01, conv_cls=0.01,
    conv_reg=0.01)


class ScratchReadinessError(ValueError):
    """A component initialized from scratch that could not train as such."""


@WEIGHT_INITIALIZERS.register_module()
class ScratchInit(BaseInit):
    """MSRA init of a detector component for training from random init.

    Convolutions (and transposed convolutions) get Kaiming normal with
    ``mode='fan_out'`` and ReLU gain, so their weight std is
    ``sqrt(2 / fan_out)``; normalization layers get weight 1 and bias 0;
    hidden fully connected layers get Xavier uniform (the usual for fc
    layers in mmdet and Detectron); the last layers named in
    ``last_layer_std`` get a zero-mean normal with that std. Biases are 0.

    Args:
        last_layer_std: Std of the last layers' normal init, by the
            module's attribute name. Defaults to :data:`LAST_LAYER_STD`.
        check: Raise if the component cannot train from scratch (see
            :func:`~rethink_mmdet.models.scratch_check.scratch_problems`:
            frozen parameters, BatchNorm in eval mode, FrozenBN, plain BN,
            an ignored ``norm_cfg``), instead of silently training it
            wrongly. Defaults to True.
        **kwargs: ``BaseInit`` arguments (``bias``, ``bias_prob``,
            ``layer``), accepted for interface compatibility.
    """

    def __init__(self,
                 last_layer_std: Optional[Dict[str, float]] = None,
                 check: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.last_layer_std = dict(
            LAST_LAYER_STD if last_layer_std is None else last_layer_std)
        self.check = check

    def __call__(self, module: nn.Module) -> None:
        if self.check:
            problems = scratch_problems(module, type(module).__name__)
            if problems:
                raise ScratchReadinessError(
                    'ScratchInit: this component cannot train from random '
                    'init:\n  ' + '\n  '.join(problems))
        for name, layer in module.named_modules():
            leaf = name.rsplit('.', 1)[-1]
            if leaf in self.last_layer_std and hasattr(layer, 'weight'):
                nn.init.normal_(layer.weight, 0, self.last_layer_std[leaf])
            elif isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(
                    layer.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
            elif isinstance(layer, NORM_TYPES):
                if getattr(layer, 'weight', None) is not None:
                    nn.init.ones_(layer.weight)
            else:
                continue
            if getattr(layer, 'bias', None) is not None:
                nn.init.zeros_(layer.bias)

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: Kaiming normal fan_out for '
                'convs, 1/0 for norms, normal std '
                f'{self.last_layer_std} for last layers')


@CheckpointLoader.register_scheme(prefixes='imagenet://')
def load_imagenet_checkpoint(filename: str, map_location=None):
    """The ``imagenet`` init policy's loader: ``init_cfg=dict(type=
    'Pretrained', checkpoint='imagenet://resnet50_gn')`` in a backbone."""
    name = filename[len('imagenet://'):]
    return CheckpointLoader.load_checkpoint(
        resolve_imagenet_checkpoint(name), map_location)
