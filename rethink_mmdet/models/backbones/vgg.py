"""VGG-16 without any normalization layer, for the paper's "no normalization"
row: the original Faster R-CNN design (Ren et al.), trained from random init
or from ImageNet.

Parameter names follow torchvision's ``vgg16``, so its ImageNet checkpoint
loads with mmengine's plain ``init_cfg=dict(type='Pretrained',
checkpoint=...)``: the conv layers as ``features.N`` in the backbone, and
fc6/fc7 (``classifier.0``/``classifier.3``) into a box head's two shared fc
layers with :class:`PretrainedVGGFC`.

Shapes: N images, input (N, 3, H, W) with H and W multiples of 16 (mmdet's
``pad_size_divisor=32`` guarantees it).
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader

#: Output widths of the 13 convs, by stage (conv1_x ... conv5_x).
VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512),
                (512, 512, 512))
#: torchvision's names of VGG's fc6 and fc7 (``classifier`` is
#: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear).
TORCHVISION_FC_NAMES = ('classifier.0', 'classifier.3')


@MODELS.register_module()
class VGG16NoNorm(BaseModule):
    """VGG-16 conv1_1 ... conv5_3 (with ReLU) as a stride-16 backbone.

    Thirteen 3x3 convs with ReLU and a 2x2 max-pool after each of the first
    four stages; no pool5 and no normalization layer, as in the original
    Faster R-CNN. ``self.features`` is indexed exactly as torchvision's
    ``vgg16().features`` without its last pool (indices 0-29).

    Args:
        frozen_stages: Number of leading stages whose convs are frozen
            (``requires_grad=False``); -1 or 0 freezes none. Pre-trained
            Faster R-CNN VGG-16 (py-faster-rcnn, Detectron) freezes conv1 and
            conv2: ``frozen_stages=2``. A scratch model trains everything
            (``ScratchInit`` refuses frozen parameters).
        init_cfg: mmengine init config, e.g. ``dict(type='ScratchInit')`` or
            ``dict(type='Pretrained', checkpoint='torchvision://vgg16')``.
    """

    def __init__(self, frozen_stages: int = -1, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if frozen_stages > len(VGG16_STAGES):
            raise ValueError(f'frozen_stages={frozen_stages}: VGG-16 has '
                             f'{len(VGG16_STAGES)} stages')
        layers = []
        #: (first, end) index of each stage's layers in ``self.features``.
        self.stage_ranges = []
        in_channels = 3
        for i, widths in enumerate(VGG16_STAGES):
            first = len(layers)
            for width in widths:
                layers += [nn.Conv2d(in_channels, width, 3, padding=1),
                           nn.ReLU(inplace=True)]
                in_channels = width
            if i < len(VGG16_STAGES) - 1:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            self.stage_ranges.append((first, len(layers)))
        self.features = nn.Sequential(*layers)
        self.out_channels = in_channels
        self.frozen_stages = frozen_stages
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        # No norm layer to keep in eval mode: freezing is requires_grad only.
        for first, end in self.stage_ranges[:max(self.frozen_stages, 0)]:
            for param in self.features[first:end].parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """Args:
            x: Images, (N, 3, H, W).

        Returns:
            One feature map, conv5_3 after ReLU: ``((N, 512, H/16, W/16),)``.
        """
        return (self.features(x), )


@WEIGHT_INITIALIZERS.register_module()
class PretrainedVGGFC(BaseInit):
    """Loads VGG's ImageNet fc6 and fc7 into a box head's two fc layers.

    The original Faster R-CNN fine-tunes fc6/fc7 from ImageNet, not only the
    convs. They fit mmdet's ``Shared2FCBBoxHead`` with ``in_channels=512``,
    ``roi_feat_size=7`` and ``fc_out_channels=4096``: fc6 takes the
    512x7x7 RoI feature flattened channel-major, as both torchvision and
    mmdet flatten it. Use it as the box head's own ``init_cfg``, which runs
    after the RoI head's (a ``Pretrained`` init would not fit: the names
    differ and mmengine's ``Pretrained`` has no key mapping).

    Args:
        checkpoint: A torchvision-format VGG state dict (any scheme
            mmengine's ``CheckpointLoader`` knows, e.g. ``imagenet://vgg16``,
            ``torchvision://vgg16`` or a local path).
        fc_names: Module names, in the head, of the layers receiving fc6
            and fc7.
        map_location: Where to load the tensors.
        **kwargs: ``BaseInit`` arguments, accepted for interface
            compatibility.
    """

    def __init__(self,
                 checkpoint: str,
                 fc_names: Sequence[str] = ('shared_fcs.0', 'shared_fcs.1'),
                 map_location: str = 'cpu',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if len(fc_names) != len(TORCHVISION_FC_NAMES):
            raise ValueError(f'fc_names must name {len(TORCHVISION_FC_NAMES)}'
                             f' layers (fc6, fc7), got {fc_names}')
        self.checkpoint = checkpoint
        self.fc_names = tuple(fc_names)
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        checkpoint = CheckpointLoader.load_checkpoint(self.checkpoint,
                                                      self.map_location)
        state = checkpoint.get('state_dict', checkpoint)
        # Fail loudly: a pre-trained row silently left with random fc6/fc7
        # would still train, to a lower AP.
        for src, dst in zip(TORCHVISION_FC_NAMES, self.fc_names):
            layer = module.get_submodule(dst)
            for attr in ('weight', 'bias'):
                key = f'{src}.{attr}'
                if key not in state:
                    raise KeyError(f'{self.checkpoint} has no {key}: not a '
                                   'torchvision-format VGG checkpoint')
                param = getattr(layer, attr)
                if param.shape != state[key].shape:
                    raise ValueError(
                        f'{key} {tuple(state[key].shape)} does not fit '
                        f'{dst}.{attr} {tuple(param.shape)}')
                with torch.no_grad():
                    param.copy_(state[key])
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: fc6/fc7 from {self.checkpoint} '
                f'into {", ".join(self.fc_names)}')
