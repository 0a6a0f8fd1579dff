"""``tools/misc/resume_check.py``: preemption through the launchers.

A short run of the R50-FPN GN scratch row on generated data goes through
tools/dist_train.sh twice: once uninterrupted, once sent SIGTERM half-way
and resumed with ``--resume``; the final weights must agree
(rethink_mmdet/acceptance/launcher_resume.py gives the bounds). One line per
result; exit 1 with one line on failure. ``--device cpu`` runs CPU
processes (gloo): the rehearsal in the tests.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Optional, Sequence

from rethink_mmdet.cli.gpu_check import ROW


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=None,
                        help=f'row config (default: configs/{ROW})')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--image-size', type=int, default=512,
                        help='square training inputs (default: 512)')
    parser.add_argument('--device', choices=('cuda', 'cpu'), default='cuda')
    parser.add_argument('--work-dir', default='work_dirs/resume_check')
    args = parser.parse_args(argv)
    if args.iters < 4:
        parser.error('--iters must be >= 4 (a preemption half-way needs '
                     'iterations before and after it)')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import torch

    from rethink_mmdet.acceptance.gpu_node import GpuCheckError
    from rethink_mmdet.acceptance.launcher_resume import preempt_and_resume
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    from rethink_mmdet.runner.configs import config_path
    if args.device == 'cuda' and not torch.cuda.is_available():
        print(f'error: no GPU: torch {torch.__version__} sees none '
              '(--device cpu runs the rehearsal)', file=sys.stderr)
        return 1
    config = args.config or config_path(ROW)
    data = osp.join(args.work_dir, 'data')
    make_synthetic_coco(data, num_train=2 * args.iters, num_val=2, seed=0)
    env = None if args.device == 'cuda' else dict(os.environ, CPU_ONLY='1')
    start = time.time()
    try:
        result = preempt_and_resume(
            config, 1, args.iters, (args.image_size, ) * 2, data,
            osp.join(args.work_dir, 'runs'), args.device, env=env)
    except GpuCheckError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'[resume-check] SIGTERM stopped the run after iteration '
          f'{result["stopped_after"]} of {result["iters"]} (launcher exit '
          f'{result["launcher_exit"]}); resumed weights differ from the '
          f'uninterrupted run\'s by {result["difference"]:.3g} '
          f'({result["measure"]}, bound {result["bound"]:g}) '
          f'({time.time() - start:.0f}s)')
    return 0
