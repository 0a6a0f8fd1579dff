"""``tools/analysis_tools/paper_table.py``: Table 1 from work_dirs."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from rethink_mmdet.analysis import read_work_dir
from rethink_mmdet.analysis.scratch_vs_pretrained import (
    build_rows,
    format_table,
)
from rethink_mmdet.runner.configs import configs_root


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The paper's Table 1 (random init vs pre-train, Δ row, "
        'reference numbers) from work_dirs')
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument('--format', choices=['text', 'md'], default='text')
    parser.add_argument(
        '--metafile', default=osp.join(configs_root(), 'metafile.yml'),
        help='reference numbers (default: configs/metafile.yml)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    runs = [read_work_dir(w) for w in args.work_dirs]
    table = format_table(build_rows(runs, args.metafile),
                         markdown=args.format == 'md')
    print(table)
    return table
