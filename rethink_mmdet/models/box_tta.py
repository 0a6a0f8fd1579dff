"""Test-time augmentation of the box predictions of a Mask R-CNN-style model.

The paper's test-time augmentation rows report box AP (docs/recipe.md: 50.9 box
AP for the large model). MMDetection 3.3's ``DetTTAModel`` refuses
predictions that carry masks; ``BoxTTAModel`` drops them from every view
and merges the boxes exactly as ``DetTTAModel`` does, so the Cascade Mask
R-CNN rows can be evaluated with TTA (box metrics only).
"""
from typing import List

from mmdet.models.test_time_augs import DetTTAModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample


@MODELS.register_module()
class BoxTTAModel(DetTTAModel):
    """``DetTTAModel`` that merges boxes and ignores predicted masks.

    Args:
        tta_cfg: ``DetTTAModel``'s merge settings (``nms``, ``max_per_img``).
        **kwargs: ``BaseTTAModel`` arguments (``module``).
    """

    def _merge_single_sample(
            self, data_samples: List[DetDataSample]) -> DetDataSample:
        for data_sample in data_samples:
            if 'masks' in data_sample.pred_instances:
                del data_sample.pred_instances.masks
        return super()._merge_single_sample(data_samples)
