from .backbones import PretrainedVGGFC, VGG16NoNorm
from .box_tta import BoxTTAModel
from .init_policies import (IMAGENET_CHECKPOINTS, LAST_LAYER_STD, ScratchInit,
                            ScratchReadinessError, resolve_imagenet_checkpoint,
                            scratch_problems)
from .layers import AnySyncBatchNorm
from .roi_heads import (KeypointHead, KeypointRoIHead, heatmaps_to_keypoints,
                        keypoints_to_heatmap_targets)

__all__ = [
    "PretrainedVGGFC", "VGG16NoNorm",
    "AnySyncBatchNorm", "BoxTTAModel",
    "KeypointHead", "KeypointRoIHead", "heatmaps_to_keypoints",
    "keypoints_to_heatmap_targets",
    "IMAGENET_CHECKPOINTS", "LAST_LAYER_STD", "ScratchInit",
    "ScratchReadinessError",
    "resolve_imagenet_checkpoint", "scratch_problems"
]
