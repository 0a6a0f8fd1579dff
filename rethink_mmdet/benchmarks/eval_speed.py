"""``CocoMetric`` against ``FasterCocoMetric`` on a generated COCO-sized
problem (``tools/analysis_tools/benchmark_eval.py``).

Each metric is timed end to end as a validation loop uses it:
``process`` on every data sample, then ``compute_metrics``. The ground
truth file is read in the constructors, outside the timing, as a Runner
reads it once per run.
"""
import contextlib
import os.path as osp
import tempfile
import time
from typing import Dict, Iterator, List, Sequence

import numpy as np

from rethink_mmdet.benchmarks.coco_problem import make_problem, write_problem
from rethink_mmdet.evaluation import FasterCocoMetric


@contextlib.contextmanager
def pycocotools_stats() -> Iterator[Dict[str, np.ndarray]]:
    """Records the unrounded 12 ``stats`` of each pycocotools evaluation
    ``CocoMetric`` runs inside the block, by iou type ('bbox', 'segm')."""
    from mmdet.evaluation.metrics import coco_metric
    recorded = {}
    original = coco_metric.COCOeval

    class Recording(original):

        def summarize(self):
            super().summarize()
            recorded[self.params.iouType] = np.array(self.stats)

    coco_metric.COCOeval = Recording
    try:
        yield recorded
    finally:
        coco_metric.COCOeval = original


def time_metric(metric, samples: Sequence[dict], batch_size: int = 8):
    """Seconds for ``process`` over ``samples`` (in batches) and
    ``compute_metrics``, and the metrics it returned."""
    start = time.perf_counter()
    for i in range(0, len(samples), batch_size):
        metric.process({}, samples[i:i + batch_size])
    results = metric.compute_metrics(metric.results)
    return time.perf_counter() - start, results


def compare(num_images: int, iou_types: Sequence[str] = ('bbox', 'segm'),
            seed: int = 0) -> List[dict]:
    """Times both metrics on one generated problem, each iou type alone.

    Returns:
        One dict per iou type: ``iou_type``, ``coco_s``, ``faster_s``,
        ``ratio`` (coco_s / faster_s), ``max_abs_diff`` over the 12 stats,
        and both metrics' returned ``results``.
    """
    from mmdet.evaluation import CocoMetric
    coco_json, samples = make_problem(num_images, seed=seed,
                                      with_masks='segm' in iou_types)
    classes = [c['name'] for c in coco_json['categories']]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = osp.join(tmp, 'instances.json')
        write_problem(coco_json, ann_file)
        for iou_type in iou_types:
            metrics = [cls(ann_file=ann_file, metric=iou_type)
                       for cls in (CocoMetric, FasterCocoMetric)]
            for metric in metrics:
                metric.dataset_meta = dict(classes=classes)
            with pycocotools_stats() as reference:
                coco_s, coco_results = time_metric(metrics[0], samples)
            faster_s, faster_results = time_metric(metrics[1], samples)
            diff = np.abs(reference[iou_type] - metrics[1].stats[iou_type])
            rows.append(dict(iou_type=iou_type, coco_s=coco_s,
                             faster_s=faster_s, ratio=coco_s / faster_s,
                             max_abs_diff=float(diff.max()),
                             coco_results=coco_results,
                             faster_results=faster_results))
    return rows


def format_rows(rows: Sequence[dict], num_images: int) -> str:
    """The benchmark's table: times, ratio and largest stat difference."""
    lines = [f'COCO evaluation, {num_images} images '
             '(process + compute_metrics):',
             f'{"type":<6}{"CocoMetric s":>14}{"FasterCocoMetric s":>20}'
             f'{"ratio":>8}{"max |diff| (12 stats)":>24}{"keys equal":>12}']
    for r in rows:
        lines.append(
            f'{r["iou_type"]:<6}{r["coco_s"]:>14.2f}{r["faster_s"]:>20.2f}'
            f'{r["ratio"]:>7.1f}x{r["max_abs_diff"]:>24.2e}'
            f'{str(r["coco_results"] == r["faster_results"]):>12}')
    return '\n'.join(lines)
