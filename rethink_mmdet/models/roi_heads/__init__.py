"""Keypoint R-CNN's RoI head and keypoint head (MMDetection 3.3 has none)."""
from .keypoint_head import (
                            KeypointHead,
                            heatmaps_to_keypoints,
                            keypoints_to_heatmap_targets,
)
from .keypoint_roi_head import KeypointRoIHead

__all__ = ['KeypointHead', 'KeypointRoIHead', 'heatmaps_to_keypoints',
           'keypoints_to_heatmap_targets']
