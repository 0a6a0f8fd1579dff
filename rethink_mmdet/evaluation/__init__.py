from .metrics import CocoKeypointMetric, evaluate_keypoints

__all__ = ['CocoKeypointMetric', 'evaluate_keypoints']
