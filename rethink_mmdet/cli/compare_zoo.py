"""``tools/analysis_tools/compare_zoo.py``: our rows beside MMDetection's
model zoo (read from the installed mmdet's metafiles)."""
import argparse
import glob
import os.path as osp
from typing import Optional, Sequence

from rethink_mmdet.analysis import read_work_dir
from rethink_mmdet.analysis.model_zoo import HEADER, compare
from rethink_mmdet.analysis.scratch_vs_pretrained import (
    final_metrics,
    format_table,
    reference_numbers,
)
from rethink_mmdet.runner import UsageError
from rethink_mmdet.runner.configs import configs_root


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Our configs beside the MMDetection model zoo's closest "
        'entries (same detector, backbone, norm, init; nearest schedule)')
    parser.add_argument('configs', nargs='*', metavar='CONFIG',
                        help='config files (default: every row config)')
    parser.add_argument('--work-dirs', nargs='+', default=[],
                        help='work_dirs of runs of these configs, for a '
                        'measured column (matched by config name)')
    parser.add_argument(
        '--metafile', metavar='FILE',
        help="a campaign's collected metafile (DIR/collect/metafile.yml) "
        'for a measured column of its rows (default rows: its models)')
    parser.add_argument('--format', choices=['text', 'md'], default='text')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    ours = measured_in_metafile(args.metafile) if args.metafile else {}
    configs = args.configs or sorted(
        p for p in glob.glob(osp.join(configs_root(), '*', '*.py'))
        if '_base_' not in p)
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if ours and not args.configs:
        names = list(ours)
    measured = dict(ours)
    for work_dir in args.work_dirs:
        run = read_work_dir(work_dir)
        last = final_metrics(run)
        measured[run.name] = dict(box=last.get('coco/bbox_mAP'),
                                  mask=last.get('coco/segm_mAP'))
    references = reference_numbers(osp.join(configs_root(), 'metafile.yml'))
    rows = compare(names, references, measured)
    table = format_table(rows, markdown=args.format == 'md', header=HEADER)
    print(table)
    return table


def measured_in_metafile(path: str) -> dict:
    """``{model name: {'box': AP, 'mask': AP}}`` of a model-index metafile
    (``collect``'s ``metafile.yml``).

    Raises:
        UsageError: the file is missing or holds no models.
    """
    import yaml
    try:
        with open(path) as f:
            models = (yaml.safe_load(f) or {}).get('Models')
    except (OSError, yaml.YAMLError, AttributeError) as error:
        raise UsageError(f'--metafile {path}: not a readable metafile '
                         f'({str(error).splitlines()[0]})') from None
    if not models:
        raise UsageError(f'--metafile {path}: no Models in it')
    try:
        numbers = reference_numbers(path)
        return {model['Name']: dict(box=numbers.get(model['Name'], {}).get(
            'box AP'), mask=numbers.get(model['Name'], {}).get('mask AP'))
            for model in models}
    except (KeyError, TypeError, AttributeError) as error:
        raise UsageError(f'--metafile {path}: a model without {error} '
                         '(expected Name and Results: Metrics)') from None
