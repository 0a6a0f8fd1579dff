from .backbones import PretrainedVGGFC, VGG16NoNorm
from .box_tta import BoxTTAModel
from .classifier import BackboneClassifier, export_backbone
from .init_policies import (IMAGENET_CHECKPOINTS, LAST_LAYER_STD, ScratchInit,
                            ScratchReadinessError, resolve_imagenet_checkpoint,
                            scratch_problems)
from .layers import AnySyncBatchNorm

__all__ = [
    "PretrainedVGGFC", "VGG16NoNorm",
    "AnySyncBatchNorm", "BackboneClassifier", "BoxTTAModel", "export_backbone",
    "IMAGENET_CHECKPOINTS", "LAST_LAYER_STD", "ScratchInit",
    "ScratchReadinessError",
    "resolve_imagenet_checkpoint", "scratch_problems"
]
