"""``tools/train.py``: MMDetection 3.3's training entry point, same flags."""
import argparse
import sys
from typing import Optional, Sequence

from rethink_mmdet.engine.tracking import TRACKERS
from rethink_mmdet.runner.train_job import configure_training, train

from .common import parse_with_common_args, run_main


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the LR by total batch / auto_scale_lr.base_batch_size '
        'and an iteration-based schedule (iterations, warmup, LR drops) by '
        'the inverse, so the images seen stay the same')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CHECKPOINT, or without a value from the latest '
        'readable checkpoint in the work_dir')
    parser.add_argument(
        '--skip-data-check', action='store_true',
        help='start without checking the datasets first (see '
        'tools/misc/check_dataset.py)')
    parser.add_argument(
        '--track', action='append', default=[], choices=list(TRACKERS),
        help='also log to TensorBoard (WORK_DIR/tensorboard/) or W&B '
        '(offline, WORK_DIR/wandb/) as one run across requeues and '
        '--resume; repeat for both (docs/tracking.md)')
    return parse_with_common_args(parser, argv)


def configure(args: argparse.Namespace):
    """The config the Runner gets, with every command-line option applied."""
    return configure_training(
        args.config, args.cfg_options, args.work_dir, args.launcher,
        amp=args.amp, auto_scale_lr=args.auto_scale_lr, resume=args.resume,
        data_root=args.data_root, track=args.track)


def main(argv: Optional[Sequence[str]] = None):
    args = parse_args(argv)
    return train(configure(args), check_data=not args.skip_data_check)


if __name__ == '__main__':  # the study runs trainings this way
    sys.exit(run_main(main))
