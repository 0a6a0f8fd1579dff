"""The CPU demo (``make demo``): generate the synthetic data, train the toy detector from
scratch on the CPU, evaluate it and print its COCO AP table.

Safe to re-run: the data are reused, a finished training run is not redone
(an interrupted one resumes from its last checkpoint) and only the
evaluation runs again.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict

from rethink_mmdet.datasets.synthetic_coco import generate_if_needed

TOY_CONFIG = ('configs/toy/'
              'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')
METRIC_COLUMNS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


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


def evaluate_untrained(config: str, work_dir: str) -> Dict[str, float]:
    """COCO metrics of the freshly initialized model, for contrast.

    Cached in ``work_dir/untrained_metrics.json``: the result only depends
    on the config and its seed.
    """
    from rethink_mmdet.runner import build_runner, load_config

    cache = osp.join(work_dir, 'untrained_metrics.json')
    if osp.isfile(cache):
        with open(cache) as f:
            return json.load(f)
    cfg = load_config(config)
    cfg.work_dir = osp.join(work_dir, 'untrained')
    cfg.load_from = None
    runner = build_runner(cfg)
    runner.model.init_weights()
    metrics = runner.test()
    os.makedirs(work_dir, exist_ok=True)
    with open(cache, 'w') as f:
        json.dump(metrics, f, indent=1)
    return metrics


def run_demo(config: str = TOY_CONFIG, work_dir: str = 'work_dirs/demo',
             data_root: str = 'data/synthetic_coco') -> Dict[str, float]:
    """Generates the data, trains ``config`` (skipped when done), evaluates
    it and its untrained twin, prints both AP tables; returns the metrics.

    Args:
        config: The toy config (relative to the repository root).
        work_dir: Where the logs and checkpoints go.
        data_root: Where the synthetic COCO data go.
    """
    from rethink_mmdet.runner import load_config
    from rethink_mmdet.runner.test import configure_test, test

    start = time.time()
    print('== 1/3 synthetic COCO data', flush=True)
    generate_if_needed(data_root)

    cfg = load_config(config)
    max_iters = cfg.train_cfg.max_iters
    checkpoint = final_checkpoint(work_dir, max_iters)
    print(f'== 2/3 training {config} from scratch, {max_iters} '
          'iterations on the CPU', flush=True)
    if osp.isfile(checkpoint):
        print(f'already trained: {checkpoint}')
    else:
        command = [sys.executable, 'tools/train.py', config,
                   '--work-dir', work_dir]
        if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
            command.append('--resume')
        print('$ ' + ' '.join(command), flush=True)
        train_start = time.time()
        subprocess.run(command, check=True)
        print(f'training took {time.time() - train_start:.0f}s')

    print('== 3/3 evaluating on the val split', flush=True)
    metrics = test(configure_test(config, checkpoint,
                                  work_dir=osp.join(work_dir, 'test')))
    untrained = evaluate_untrained(config, work_dir)
    print()
    print(format_ap_table(metrics, f'COCO AP on the val split after '
                          f'{max_iters} iterations from scratch '
                          f'({osp.basename(checkpoint)}):'))
    print()
    print(format_ap_table(untrained, 'the same model untrained (random '
                          'init), for contrast:'))
    print(f'\nlogs and checkpoints: {osp.abspath(work_dir)}')
    print(f'final checkpoint:     {osp.abspath(checkpoint)}')
    print(f'demo took {time.time() - start:.0f}s')
    return metrics
