from .backbones import PretrainedVGGFC, VGG16NoNorm
from .box_tta import BoxTTAModel
from .init_policies import (IMAGENET_CHECKPOINTS, LAST_LAYER_STD, ScratchInit,
                            ScratchReadinessError, resolve_imagenet_checkpoint,
                            scratch_problems)
from .layers import AnySyncBatchNorm

__all__ = [
    "PretrainedVGGFC", "VGG16NoNorm",
    "AnySyncBatchNorm", "BoxTTAModel",
    "IMAGENET_CHECKPOINTS", "LAST_LAYER_STD", "ScratchInit",
    "ScratchReadinessError",
    "resolve_imagenet_checkpoint", "scratch_problems"
]
