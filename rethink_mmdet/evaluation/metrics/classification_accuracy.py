"""Top-1 accuracy of the pre-training classifier, as an mmengine metric."""
from typing import Sequence

from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric


@METRICS.register_module()
class ClassificationAccuracy(BaseMetric):
    """Percentage of images whose predicted class is the true one.

    Reads the ``dict(pred_label, gt_label)`` per image that
    :class:`~rethink_mmdet.models.BackboneClassifier` predicts, and reports
    ``PREFIX/top1`` in % (ImageNet's usual unit).
    """
    default_prefix = 'cls'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if sample['gt_label'] < 0:
                raise ValueError('ClassificationAccuracy needs labelled '
                                 'images; got a prediction without '
                                 'gt_label')
            self.results.append(sample['pred_label'] == sample['gt_label'])

    def compute_metrics(self, results: list) -> dict:
        return dict(top1=100.0 * sum(results) / len(results))
