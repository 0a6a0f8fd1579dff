"""``make study``: the paper's main experiment at toy scale, end to end
(:func:`rethink_mmdet.toy.study_run.run_study`)."""
import argparse
from typing import Dict, Optional, Sequence

from rethink_mmdet.toy.study_plan import SCALES
from rethink_mmdet.toy.study_run import run_study


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scale', choices=sorted(SCALES), default='full',
                        help="'full' (make study, 46 min on 2 cores, "
                        "2026-12-08) or 'tiny' (the test's: a couple of "
                        "minutes)")
    parser.add_argument('--out', default='work_dirs/study',
                        help='output folder (default: work_dirs/study)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the pre-training and of the first '
                        'detection seed (default: 0)')
    parser.add_argument('--seeds', type=int, default=2,
                        help='repeat the detection runs with this many '
                        'seeds (default: 2, the report\'s spread; make '
                        'study SEEDS=3); runs of an earlier study are '
                        'reused')
    parser.add_argument('--pretrain', action='store_true',
                        help='also re-train the pre-training (the shipped '
                        'classifier otherwise; make study PRETRAIN=1)')
    parser.add_argument('--no-less-data', action='store_true',
                        help='skip the less-data runs')
    parser.add_argument('--jobs', type=int, default=2,
                        help='runs trained side by side, sharing the cores '
                        '(default: 2)')
    parser.add_argument('--verbose', action='store_true',
                        help="also print the trainings' own logs")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, str]:
    args = parse_args(argv)
    return run_study(args.scale, args.out, args.seed, args.seeds,
                     less_data=not args.no_less_data, verbose=args.verbose,
                     jobs=args.jobs, pretrain=args.pretrain)
