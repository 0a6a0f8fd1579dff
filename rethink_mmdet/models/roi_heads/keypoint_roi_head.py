"""``StandardRoIHead`` with a keypoint branch: Mask R-CNN's keypoint variant.

Ground truth: ``gt_instances.keypoints`` ``(N, K, 3)`` in network input
coordinates (:class:`~rethink_mmdet.datasets.PackKeypointDetInputs`).
Predictions: ``pred_instances.keypoints`` ``(R, K, 2)`` and
``pred_instances.keypoint_scores`` ``(R, K)``, in the same space as the
predicted boxes (the original image when ``rescale``).
"""
from typing import List, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import InstanceList, OptConfigType
from torch import Tensor


@MODELS.register_module()
class KeypointRoIHead(StandardRoIHead):
    """Box (and optionally mask) head plus a keypoint head, trained together.

    The keypoint branch trains on the positive RoIs whose matched object has
    at least one labelled keypoint inside the RoI (detectron2's
    ``select_proposals_with_visible_keypoints``); with none in the batch its
    loss is 0 but still reaches every keypoint-head parameter.

    Args:
        keypoint_roi_extractor: RoI extractor of the keypoint branch
            (RoIAlign to 14x14 in the paper's rows).
        keypoint_head: A :class:`KeypointHead` config.
        **kwargs: ``StandardRoIHead``'s arguments.
    """

    def __init__(self, keypoint_roi_extractor: OptConfigType = None,
                 keypoint_head: OptConfigType = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if keypoint_head is not None:
            if keypoint_roi_extractor is None:
                raise ValueError('KeypointRoIHead: keypoint_head needs a '
                                 'keypoint_roi_extractor')
            self.keypoint_roi_extractor = MODELS.build(keypoint_roi_extractor)
            self.keypoint_head = MODELS.build(keypoint_head)

    @property
    def with_keypoint(self) -> bool:
        return getattr(self, 'keypoint_head', None) is not None

    def _keypoint_forward(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        feats = self.keypoint_roi_extractor(
            x[:self.keypoint_roi_extractor.num_inputs], rois)
        return self.keypoint_head(feats)

    def forward(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList = None) -> tuple:
        results = super().forward(x, rpn_results_list, batch_data_samples)
        if self.with_keypoint:
            rois = bbox2roi([res.bboxes for res in rpn_results_list])
            results = results + (self._keypoint_forward(x, rois[:100]), )
        return results

    def _sample(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_gt_instances: InstanceList,
                batch_gt_instances_ignore: InstanceList
                ) -> List[SamplingResult]:
        """Assigns and samples proposals as ``StandardRoIHead.loss`` does
        (which keeps its sampling results to itself)."""
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = self.bbox_assigner.assign(
                rpn_results, batch_gt_instances[i],
                batch_gt_instances_ignore[i])
            sampling_results.append(self.bbox_sampler.sample(
                assign_result, rpn_results, batch_gt_instances[i],
                feats=[lvl_feat[i][None] for lvl_feat in x]))
        return sampling_results

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: List[DetDataSample]) -> dict:
        assert len(rpn_results_list) == len(batch_data_samples)
        batch_gt_instances, batch_gt_instances_ignore, _ = \
            unpack_gt_instances(batch_data_samples)
        sampling_results = self._sample(x, rpn_results_list,
                                        batch_gt_instances,
                                        batch_gt_instances_ignore)
        losses = dict()
        bbox_results = self.bbox_loss(x, sampling_results)
        losses.update(bbox_results['loss_bbox'])
        if self.with_mask:
            mask_results = self.mask_loss(x, sampling_results,
                                          bbox_results['bbox_feats'],
                                          batch_gt_instances)
            losses.update(mask_results['loss_mask'])
        if self.with_keypoint:
            losses['loss_keypoint'] = self.keypoint_loss(
                x, sampling_results, batch_gt_instances)
        return losses

    def keypoint_loss(self, x: Tuple[Tensor],
                      sampling_results: List[SamplingResult],
                      batch_gt_instances: InstanceList) -> Tensor:
        """Keypoint loss on the positive RoIs with a labelled keypoint.

        Args:
            x: Multi-level features.
            sampling_results: Per image.
            batch_gt_instances: Per image, with ``keypoints`` ``(N, K, 3)``.

        Returns:
            The scalar loss.
        """
        boxes, targets, valid = [], [], []
        for res, gt in zip(sampling_results, batch_gt_instances):
            if 'keypoints' not in gt:
                raise KeyError(
                    'KeypointRoIHead: gt_instances have no "keypoints"; the '
                    'train pipeline needs LoadKeypoints and '
                    'PackKeypointDetInputs')
            keypoints = gt.keypoints[res.pos_assigned_gt_inds]
            image_targets, image_valid = self.keypoint_head.get_targets(
                keypoints, res.pos_priors)
            keep = image_valid.any(dim=1)
            boxes.append(res.pos_priors[keep])
            targets.append(image_targets[keep])
            valid.append(image_valid[keep])
        if sum(len(b) for b in boxes) == 0:
            # Nothing to learn from: one RoI keeps the graph (and DDP's
            # gradient buckets) the same as in any other iteration.
            boxes = [res.priors[:1] for res in sampling_results]
            heatmaps = self._keypoint_forward(x, bbox2roi(boxes))
            return heatmaps.sum() * 0
        heatmaps = self._keypoint_forward(x, bbox2roi(boxes))
        return self.keypoint_head.loss(heatmaps, torch.cat(targets),
                                       torch.cat(valid))

    def predict(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        results_list = super().predict(x, rpn_results_list,
                                       batch_data_samples, rescale=rescale)
        if self.with_keypoint:
            batch_img_metas = [s.metainfo for s in batch_data_samples]
            results_list = self.predict_keypoints(x, batch_img_metas,
                                                  results_list, rescale)
        return results_list

    def predict_keypoints(self, x: Tuple[Tensor], batch_img_metas: List[dict],
                          results_list: InstanceList,
                          rescale: bool = False) -> InstanceList:
        """Adds ``keypoints`` and ``keypoint_scores`` to each image's
        detections (boxes in the original image when ``rescale``)."""
        # Keypoints are predicted on the network input, where the features
        # are; rescaled boxes go back there first.
        boxes = []
        for results, meta in zip(results_list, batch_img_metas):
            scale = results.bboxes.new_tensor(meta['scale_factor']).repeat(2)
            boxes.append(results.bboxes * scale if rescale else results.bboxes)
        num_keypoints = self.keypoint_head.num_keypoints
        rois = bbox2roi(boxes)
        heatmaps = (self._keypoint_forward(x, rois) if len(rois) else
                    rois.new_zeros((0, num_keypoints, 1, 1)))
        for results, meta, image_boxes, image_heatmaps in zip(
                results_list, batch_img_metas, boxes,
                heatmaps.split([len(b) for b in boxes])):
            keypoints, scores = self.keypoint_head.predict(
                image_heatmaps, image_boxes,
                meta['scale_factor'] if rescale else None)
            results.keypoints = keypoints
            results.keypoint_scores = scores
        return results_list
