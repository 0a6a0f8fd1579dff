from .coco_keypoint_metric import CocoKeypointMetric, evaluate_keypoints

__all__ = ['CocoKeypointMetric', 'evaluate_keypoints']
