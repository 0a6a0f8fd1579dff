"""Where ``tools/test.py`` spends its time on a COCO-sized val set: data,
model and metric, for a config and another side by side
(``tools/analysis_tools/benchmark_test.py``).

Each config is run as ``tools/test.py`` runs it
(:func:`rethink_mmdet.runner.test_job.configure_test`, the Runner's test
loop, hooks and evaluator), on generated COCO-like JPEGs with polygon
masks (:mod:`rethink_mmdet.benchmarks.coco_images`). The same overrides
go to every config, so what differs is each config's own test pipeline,
data loader and evaluator:

- the model is shrunk (:data:`TINY_MODEL`: ResNet-18 at 16 base channels,
  32-channel FPN and heads, 100 RPN proposals instead of 1,000) and the
  test Resize scale made small, so the model's share stays small on a
  CPU; masks are still pasted and encoded at the original image size, as
  at full scale;
- ``rcnn.score_thr=0``: an untrained model's class scores are ~1/81, below
  the default 0.05; with 0 every image keeps ``max_per_img=100``
  detections, as a trained COCO model mostly does, so the metric gets
  COCO's load;
- every config loads the same checkpoint (the first config's model at
  its initialization, seed 0) and normalizes its input with the first
  config's data preprocessor (our GN rows feed Detectron's BGR input,
  stock mmdet's scratch rows torchvision's), so the predictions, and the
  metrics, must agree.

The phases come from a hook and wrapped methods, per test run:

- *data*: waiting for the next batch (with 0 workers: the pipeline and
  collate in this process);
- *model*: ``model.test_step`` (preprocessing, forward, post-processing
  including the mask paste to full-image bitmaps);
- *metric process*: ``evaluator.process`` per batch (CocoMetric's RLE
  encoding of the masks, tensors to numpy);
- *metric compute*: ``evaluator.evaluate`` (``compute_metrics``);
- *setup*: the rest of ``runner.test()`` (dataset index, ground-truth
  load, checkpoint) and *hooks* the rest of each iteration.
"""
import os.path as osp
import time
import uuid
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook

from rethink_mmdet.runner import build_runner
from rethink_mmdet.runner.test_job import configure_test

GN = dict(type='GN', num_groups=8, requires_grad=True)
CHANNELS = 32
#: Overrides that shrink a Mask R-CNN R50-FPN config to a CPU-sized model.
TINY_MODEL = dict(
    backbone=dict(depth=18, base_channels=16, norm_cfg=GN),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=CHANNELS,
              norm_cfg=GN),
    rpn_head=dict(in_channels=CHANNELS, feat_channels=CHANNELS),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=CHANNELS),
        bbox_head=dict(in_channels=CHANNELS, conv_out_channels=CHANNELS,
                       fc_out_channels=256, norm_cfg=GN),
        mask_roi_extractor=dict(out_channels=CHANNELS),
        mask_head=dict(in_channels=CHANNELS, conv_out_channels=CHANNELS,
                       norm_cfg=GN)),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100),
                  rcnn=dict(score_thr=0.0, max_per_img=100)))

PHASES = ('setup', 'data', 'model', 'metric process', 'metric compute',
          'hooks')


def test_config(config: str, checkpoint: str, ann_file: str,
                scale: Sequence[int], work_dir: str, workers: int = 0,
                data_preprocessor: Optional[dict] = None):
    """The config ``tools/test.py CONFIG CHECKPOINT`` would run, reading
    ``ann_file`` (images beside it, one directory up), with
    ``data_preprocessor`` instead of the config's when given."""
    data_root = osp.dirname(osp.dirname(ann_file))
    cfg = configure_test(config, checkpoint, dict(
        model=TINY_MODEL,
        test_dataloader=dict(
            num_workers=workers, persistent_workers=workers > 0,
            dataset=dict(data_root=data_root, ann_file=ann_file,
                         data_prefix=dict(img=''), backend_args=None)),
        # The configs' visualizer is one global instance by name.
        visualizer=dict(name=f'benchmark-{uuid.uuid4().hex}'),
        log_level='WARNING'), work_dir)
    if data_preprocessor is not None:
        cfg.model.data_preprocessor = data_preprocessor
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform['type'] == 'Resize':
            transform['scale'] = tuple(scale)
    evaluators = cfg.test_evaluator
    for evaluator in (evaluators if isinstance(evaluators, list)
                      else [evaluators]):
        evaluator['ann_file'] = ann_file
    return cfg


def save_initial_checkpoint(config: str, path: str, seed: int = 0) -> None:
    """Writes the tiny model of ``config`` at its initialization."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from rethink_mmdet.runner import load_config
    init_default_scope('mmdet')
    cfg = load_config(config, dict(model=TINY_MODEL))
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)


class PhaseTimer(Hook):
    """Seconds per phase of one ``runner.test()`` (see the module doc).

    At ``before_test_epoch`` it wraps the model's ``test_step`` and the
    evaluator's ``process`` and ``evaluate``, which exist only once the
    test loop is built.
    """

    def __init__(self):
        self.seconds: Dict[str, float] = {p: 0.0 for p in PHASES}
        self.iterations = 0
        self._mark = None

    def _timed(self, obj, name: str, phase: str) -> None:
        original = getattr(obj, name)

        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
        setattr(obj, name, call)

    def before_test_epoch(self, runner) -> None:
        self._timed(runner.model, 'test_step', 'model')
        evaluator = runner.test_loop.evaluator
        self._timed(evaluator, 'process', 'metric process')
        self._timed(evaluator, 'evaluate', 'metric compute')
        self._mark = time.perf_counter()

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        now = time.perf_counter()
        self.seconds['data'] += now - self._mark
        self._iter_start = now

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._mark = time.perf_counter()
        self.seconds['hooks'] += self._mark - self._iter_start
        self.iterations += 1


def time_test(cfg) -> dict:
    """Runs ``runner.test()`` on ``cfg``; the phases and the metrics."""
    runner = build_runner(cfg)
    timer = PhaseTimer()
    # Last, so its iteration time includes the configs' own hooks.
    runner.register_hook(timer, priority='LOWEST')
    start = time.perf_counter()
    metrics = runner.test()
    total = time.perf_counter() - start
    seconds = timer.seconds
    # The iteration's time so far counted model and metric process too.
    seconds['hooks'] -= seconds['model'] + seconds['metric process']
    seconds['setup'] = total - sum(seconds[p] for p in PHASES
                                   if p != 'setup')
    return dict(seconds=dict(seconds), total=total, metrics=metrics,
                images=len(runner.test_dataloader.dataset),
                evaluator=[type(m).__name__
                           for m in runner.test_loop.evaluator.metrics])


def compare(configs: Sequence[str], ann_file: str, scale: Sequence[int],
            work_dir: str, workers: int = 0) -> List[dict]:
    """Times every config's test run on the same checkpoint."""
    from rethink_mmdet.runner import load_config
    checkpoint = osp.join(work_dir, 'tiny_init.pth')
    save_initial_checkpoint(configs[0], checkpoint)
    preprocessor = load_config(configs[0]).model.data_preprocessor
    rows = []
    for index, config in enumerate(configs):
        cfg = test_config(config, checkpoint, ann_file, scale,
                          osp.join(work_dir, f'run{index}'), workers,
                          preprocessor)
        rows.append(dict(config=config, **time_test(cfg)))
    return rows


def format_rows(rows: Sequence[dict]) -> str:
    """The table: seconds per phase, ms per image, and the ratio."""
    images = rows[0]['images']
    width = max(len(p) for p in PHASES + ('total', )) + 2
    lines = [f'tools/test.py on {images} images: seconds (ms per image)']
    lines.append(f'{"phase":<{width}}' + ''.join(
        f'{r["config"][-44:]:>46}' for r in rows))
    for phase in PHASES + ('total', ):
        cells = []
        for r in rows:
            s = r['total'] if phase == 'total' else r['seconds'][phase]
            cells.append(f'{s:>10.1f} s ({1e3 * s / images:>8.1f} ms)')
        lines.append(f'{phase:<{width}}' + ''.join(f'{c:>46}'
                                                   for c in cells))
    lines.append(f'{"evaluator":<{width}}' + ''.join(
        f'{",".join(r["evaluator"]):>46}' for r in rows))
    if len(rows) == 2:
        a, b = rows
        lines.append('ratio second / first: ' + ', '.join(
            f'{p} {b["seconds"][p] / max(a["seconds"][p], 1e-9):.2f}x'
            for p in ('data', 'model', 'metric process', 'metric compute'))
            + f', total {b["total"] / a["total"]:.2f}x')
        lines.append(f'metrics equal: {a["metrics"] == b["metrics"]}')
    for r in rows:
        lines.append(f'{r["config"]}: ' + ', '.join(
            f'{k} {v}' for k, v in r['metrics'].items()))
    return '\n'.join(lines)
