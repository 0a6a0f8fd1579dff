"""The CPU demo (``make demo``): generate the synthetic data, train the toy
detector from scratch on the CPU, evaluate it and print its COCO AP table.

Safe to re-run: the data are reused, a finished training run is not redone
(an interrupted one resumes from its last checkpoint) and only the
evaluation runs again. The screen shows progress and results; everything
the tools print (the Runner's tables, pycocotools' messages) goes to
``WORK_DIR/demo.log``.
"""
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, Optional, Sequence

from rethink_mmdet.datasets.synthetic_coco import generate_if_needed
from rethink_mmdet.runner.configs import config_path
from rethink_mmdet.runner.launch import (
    Launched,
    TrainingRun,
    log_tail,
    resume_arguments,
)
from rethink_mmdet.toy.progress_display import (
    TrainProgress,
    format_seconds,
    output_to,
)

# The package's (a checkout's configs/ or a wheel's), wherever it runs.
TOY_CONFIG = config_path(
    'toy/mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')
METRIC_COLUMNS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
LOG_FILE = 'demo.log'


class DemoError(RuntimeError):
    """The demo's training failed (the message names its log)."""


def format_ap_table(metrics: Dict[str, float], title: str = '') -> str:
    """COCO AP/AP50/AP75/APs/APm/APl rows for the bbox and segm metrics."""
    header = f'{"":6}' + ''.join(
        f'{c.replace("mAP", "AP"):>8}' for c in METRIC_COLUMNS)
    lines = [title] if title else []
    lines.append(header)
    for kind in ('bbox', 'segm'):
        values = [metrics.get(f'coco/{kind}_{c}') for c in METRIC_COLUMNS]
        if all(v is None for v in values):
            continue
        lines.append(f'{kind:6}' + ''.join(
            f'{v:8.3f}' if v is not None else f'{"-":>8}' for v in values))
    return '\n'.join(lines)


def final_checkpoint(work_dir: str, max_iters: int) -> str:
    return osp.join(work_dir, f'iter_{max_iters}.pth')


def evaluate_untrained(config: str, work_dir: str,
                       cfg_options: Optional[dict] = None
                       ) -> Dict[str, float]:
    """COCO metrics of the freshly initialized model, for contrast.

    Cached in ``work_dir/untrained_metrics.json``: the result only depends
    on the config and its seed.
    """
    from rethink_mmdet.runner import build_runner, load_config

    cache = osp.join(work_dir, 'untrained_metrics.json')
    if osp.isfile(cache):
        with open(cache) as f:
            return json.load(f)
    cfg = load_config(config, cfg_options)
    cfg.work_dir = osp.join(work_dir, 'untrained')
    cfg.load_from = None
    runner = build_runner(cfg)
    runner.model.init_weights()
    metrics = runner.test()
    os.makedirs(work_dir, exist_ok=True)
    with open(cache, 'w') as f:
        json.dump(metrics, f, indent=1)
    return metrics


def _train(config: str, work_dir: str, max_iters: int,
           cfg_options: Sequence[str], log) -> None:
    """``tools/train.py`` in a subprocess (resumed when interrupted), its
    output into ``log`` and progress lines on the screen."""
    run = TrainingRun(config, work_dir, max_iters,
                      ['--cfg-options', *cfg_options] if cfg_options else [])
    progress = TrainProgress(
        max_iters, start_iter=resume_arguments(work_dir, max_iters)[1])
    code = Launched(run, log, on_line=progress.feed).wait()
    if code != 0:
        log.flush()
        raise DemoError(f'training failed (exit {code}); the whole output '
                        f'is in {log.name}; its last lines:\n'
                        f'{log_tail(log.name)}')


def run_demo(config: str = TOY_CONFIG, work_dir: str = 'work_dirs/demo',
             data_root: str = 'data/synthetic_coco',
             cfg_options: Sequence[str] = (),
             prepare_data: Callable[[str], object] = generate_if_needed
             ) -> Dict[str, float]:
    """Generates the data, trains ``config`` (skipped when done), evaluates
    it and its untrained twin, prints both AP tables; returns the metrics.

    Args:
        config: The toy config.
        work_dir: Where the logs and checkpoints go.
        data_root: Where the synthetic COCO data go.
        cfg_options: ``--cfg-options`` (``KEY=VALUE`` strings) for
            training and evaluation.
        prepare_data: Makes the data in ``data_root`` (tests pass their
            own, already made).
    """
    from rethink_mmdet.runner import load_config, parse_cfg_options
    from rethink_mmdet.runner.test_job import configure_test, test

    start = time.time()
    overrides = parse_cfg_options(cfg_options)
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, LOG_FILE)
    print(f'== 1/3 synthetic COCO data in {data_root}', flush=True)
    with open(log_path, 'a') as log:
        with output_to(log):
            prepare_data(data_root)
            cfg = load_config(config, overrides)
        max_iters = cfg.train_cfg.max_iters
        checkpoint = final_checkpoint(work_dir, max_iters)
        print(f'== 2/3 training {osp.relpath(config)} from scratch on the '
              f'CPU, {max_iters} iterations', flush=True)
        if osp.isfile(checkpoint):
            print(f'already trained: {checkpoint}')
        else:
            train_start = time.time()
            _train(config, work_dir, max_iters, cfg_options, log)
            print('training took '
                  f'{format_seconds(time.time() - train_start)}')
        print('== 3/3 evaluating on the val split, trained and untrained',
              flush=True)
        with output_to(log):
            metrics = test(configure_test(
                config, checkpoint, overrides,
                work_dir=osp.join(work_dir, 'test')))
            untrained = evaluate_untrained(config, work_dir, overrides)
    print()
    print(format_ap_table(metrics, f'COCO AP on the val split after '
                          f'{max_iters} iterations from scratch '
                          f'({osp.basename(checkpoint)}):'))
    print()
    print(format_ap_table(untrained, 'the same model untrained (random '
                          'init), for contrast:'))
    print(f'\nlogs and checkpoints: {osp.abspath(work_dir)} (everything '
          f'the tools printed: {LOG_FILE})')
    print(f'final checkpoint:     {osp.abspath(checkpoint)}')
    print(f'demo took {format_seconds(time.time() - start)}')
    return metrics
