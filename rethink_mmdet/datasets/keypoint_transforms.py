"""Keypoints through MMDetection's pipeline.

MMDetection 3.3's geometric transforms (``Resize``, ``RandomChoiceResize``,
``RandomFlip``, ...) know nothing of keypoints, but each records what it did
to the image in ``results['homography_matrix']``. So keypoints stay in the
original image's coordinates until packing, where
:class:`PackKeypointDetInputs` maps them with the accumulated homography
(wherever :class:`LoadKeypoints` sits in the pipeline) and, when the
transform mirrors the image (negative determinant: a horizontal or vertical
flip), swaps each keypoint with its partner (``left_eye`` <-> ``right_eye``).
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadKeypoints(BaseTransform):
    """Reads the instances' keypoints (:class:`CocoKeypointDataset`).

    Adds ``gt_keypoints``: float32 ``(N, K, 3)`` (x, y, visibility) in the
    original image's coordinates, one row per instance in the order of
    ``LoadAnnotations``' ``gt_bboxes`` (ignored instances included).
    """

    def transform(self, results: dict) -> dict:
        instances = results.get('instances', [])
        if 'keypoint_flip_indices' not in results or any(
                'keypoints' not in inst for inst in instances):
            raise KeyError(
                'LoadKeypoints needs samples from CocoKeypointDataset '
                '(instances with "keypoints" and "keypoint_flip_indices"); '
                'set the dataset type to CocoKeypointDataset')
        num_keypoints = len(results['keypoint_flip_indices'])
        results['gt_keypoints'] = np.stack(
            [inst['keypoints'] for inst in instances]).astype(np.float32) \
            if instances else np.zeros((0, num_keypoints, 3), np.float32)
        return results


def transform_keypoints(keypoints: np.ndarray, homography: np.ndarray,
                        flip_indices) -> np.ndarray:
    """Maps ``(N, K, 3)`` keypoints through a 3x3 homography.

    Unlabelled keypoints (visibility 0) stay all zero; a mirroring
    homography swaps each keypoint with ``flip_indices[k]``.
    """
    keypoints = keypoints.copy()
    points = np.concatenate(
        [keypoints[..., :2], np.ones_like(keypoints[..., :1])], axis=-1)
    mapped = points @ homography.T
    keypoints[..., :2] = mapped[..., :2] / mapped[..., 2:]
    keypoints[keypoints[..., 2] <= 0] = 0
    if np.linalg.det(homography[:2, :2]) < 0:
        keypoints = keypoints[:, list(flip_indices)]
    return keypoints


@TRANSFORMS.register_module()
class PackKeypointDetInputs(PackDetInputs):
    """``PackDetInputs`` that also packs ``gt_keypoints`` into
    ``gt_instances.keypoints`` (float32 ``(N, K, 3)``, network input
    coordinates), after mapping them through every geometric transform of
    the pipeline (``homography_matrix``) and swapping left/right keypoints
    if the image was mirrored.
    """
    mapping_table = {**PackDetInputs.mapping_table,
                     'gt_keypoints': 'keypoints'}

    def transform(self, results: dict) -> dict:
        if 'gt_keypoints' in results:
            num_boxes = len(results.get('gt_bboxes', []))
            if len(results['gt_keypoints']) != num_boxes:
                raise ValueError(
                    f'{len(results["gt_keypoints"])} instances have '
                    f'keypoints but {num_boxes} have boxes: a transform '
                    f'between LoadKeypoints and PackKeypointDetInputs '
                    f'dropped instances (crops are not supported)')
            homography = results.get('homography_matrix')
            if homography is None:
                homography = np.eye(3, dtype=np.float32)
            results = dict(results, gt_keypoints=transform_keypoints(
                results['gt_keypoints'], np.asarray(homography, np.float64),
                results['keypoint_flip_indices']))
        return super().transform(results)
