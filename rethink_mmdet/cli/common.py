"""Argument parsing and exit codes every tool shares."""
import argparse
import os
import sys
import traceback
from typing import Optional, Sequence

from mmengine.config import DictAction

from rethink_mmdet.engine.checkpointing import TRUST_ENV
from rethink_mmdet.runner import UsageError


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments MMDetection 3.3's train.py and test.py both accept."""
    parser.add_argument('--work-dir', help='directory for logs and '
                        'checkpoints (default: work_dirs/CONFIG_STEM)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100 '
        '(key=value, lists as key="[a,b]")')
    parser.add_argument(
        '--data-root', metavar='DIR',
        help="the datasets' folder instead of the config's data_root "
        '(default for the COCO rows: $RETHINK_COCO_ROOT, else data/coco/)')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_with_common_args(parser: argparse.ArgumentParser,
                           argv: Optional[Sequence[str]] = None
                           ) -> argparse.Namespace:
    """Adds the shared arguments and ``--trust-checkpoint``, parses, and
    exports ``LOCAL_RANK`` and the opt-in."""
    add_common_args(parser)
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='load checkpoints with full unpickling, for an old or foreign '
        'file refused as not plain data: this runs code from the file, so '
        f'only for files you trust (same as {TRUST_ENV}=1)')
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.trust_checkpoint:
        # Through the environment: mmengine's loaders and every process of
        # the job see it.
        os.environ[TRUST_ENV] = '1'
    return args


def run_main(main, argv: Optional[Sequence[str]] = None) -> int:
    """Runs a tool's main; bad input exits 2 with its message, no traceback.

    Bad input: a :class:`UsageError`, a launcher's environment the job
    cannot start from (``--launcher slurm`` outside srun), a dataset that
    fails the checks, a missing or damaged checkpoint or one that needs
    code to load (refused unless trusted), a scratch config that would
    train with frozen or eval-mode parts (found when the weights are
    initialized, before the first iteration), or a work_dir the analysis
    tools cannot read. A diverged run (:class:`DivergenceError`) exits 1,
    also with its one-line reason. In a distributed job, any other
    exception is shown with its traceback and a last line naming the
    failing rank, and exits 1 (torchrun then stops the other ranks). A
    main that returns an int (a checker's verdict) exits with it.
    """
    from rethink_mmdet.analysis.work_dirs import WorkDirError
    from rethink_mmdet.compat import LauncherError
    from rethink_mmdet.datasets.validation import DatasetError
    from rethink_mmdet.engine.checkpointing import CheckpointError
    from rethink_mmdet.engine.hooks import DivergenceError
    from rethink_mmdet.models.init_policies import ScratchReadinessError
    try:
        status = main(argv)
    except (UsageError, LauncherError, ScratchReadinessError, WorkDirError,
            DatasetError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    except DivergenceError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    except Exception as e:
        world_size = int(os.environ.get('WORLD_SIZE', '1'))
        if world_size == 1:
            raise
        traceback.print_exc()
        print(f'error: rank {os.environ.get("RANK", "?")} of {world_size} '
              f'failed: {type(e).__name__}: {e}', file=sys.stderr,
              flush=True)
        return 1
    # bool is an int too: only a real exit status counts.
    return status if type(status) is int else 0
