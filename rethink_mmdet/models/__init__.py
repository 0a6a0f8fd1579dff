from .backbones import PretrainedVGGFC, VGG16NoNorm
from .box_tta import BoxTTAModel
from .classifier import BackboneClassifier, export_backbone
from .fixed_shape_pad import FixedShapePad
from .init_coverage import InitCfgProbe, ignores_init_cfg, untouched_by_init
from .init_policies import (
                            IMAGENET_CHECKPOINTS,
                            LAST_LAYER_STD,
                            ScratchInit,
                            ScratchReadinessError,
                            resolve_imagenet_checkpoint,
)
from .layers import AnySyncBatchNorm, AutocastGroupNorm
from .necks import HRFPNWithNorm
from .roi_heads import (
                            KeypointHead,
                            KeypointRoIHead,
                            heatmaps_to_keypoints,
                            keypoints_to_heatmap_targets,
)
from .scratch_check import (
                            PartReport,
                            inspect_part,
                            model_parts,
                            scratch_problems,
)
from .stride_check import StrideConsumer, stride_consumers, stride_problems

__all__ = [
    "PretrainedVGGFC", "VGG16NoNorm",
    "AnySyncBatchNorm", "AutocastGroupNorm", "BackboneClassifier",
    "BoxTTAModel",
    "export_backbone", "FixedShapePad", "HRFPNWithNorm",
    "KeypointHead", "KeypointRoIHead", "heatmaps_to_keypoints",
    "keypoints_to_heatmap_targets",
    "PartReport", "inspect_part", "model_parts",
    "IMAGENET_CHECKPOINTS", "LAST_LAYER_STD", "ScratchInit",
    "ScratchReadinessError",
    "resolve_imagenet_checkpoint", "scratch_problems",
    "InitCfgProbe", "ignores_init_cfg", "untouched_by_init",
    "StrideConsumer", "stride_consumers", "stride_problems"
]
