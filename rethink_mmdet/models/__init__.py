"""The models configs name, and the init policies that train them from scratch.

Backbones, necks, heads, layers, TTA, the classifier of the toy
pre-training; ``ScratchInit`` and the ``imagenet://`` checkpoints."""
from .backbones import PretrainedVGGFC, VGG16NoNorm
from .box_tta import BoxTTAModel
from .classifier import BackboneClassifier
from .fixed_shape_pad import FixedShapePad
from .init_policies import ScratchInit
from .layers import AnySyncBatchNorm, AutocastGroupNorm
from .necks import HRFPNWithNorm
from .roi_heads import KeypointHead, KeypointRoIHead

__all__ = [
    'AnySyncBatchNorm', 'AutocastGroupNorm', 'BackboneClassifier',
    'BoxTTAModel', 'FixedShapePad', 'HRFPNWithNorm', 'KeypointHead',
    'KeypointRoIHead', 'PretrainedVGGFC', 'ScratchInit', 'VGG16NoNorm',
]
