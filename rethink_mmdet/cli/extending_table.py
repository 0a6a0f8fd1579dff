"""``tools/misc/extending_table.py``: docs/extending.md's backbone table."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError

#: docs/extending.md of this checkout.
DOC = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'docs', 'extending.md')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write docs/extending.md\'s table of every MMDetection '
        'backbone from scratch: check_scratch_ready.py on each backbone\'s '
        'lines over the R50 scratch row (full size, one training step at '
        '128 px on the CPU), its parameters and backbone + neck GFLOPs at '
        '1333x800 (padded to 1344x800; mmengine\'s '
        'get_model_complexity_info). Minutes.')
    parser.add_argument('--doc', default=DOC,
                        help='the page to update (default: %(default)s)')
    parser.add_argument(
        '--keep-measured', action='store_true',
        help='keep the page\'s params and GFLOPs cells where it has them '
        '(measure the others)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from rethink_mmdet.readiness import backbone_table as et
    from rethink_mmdet.readiness.backbone_catalogue import BACKBONES
    args = parse_args(argv)
    try:
        with open(args.doc) as f:
            doc = f.read()
        old = et.read_rows(doc)
    except (OSError, ValueError) as e:
        raise UsageError(f'{args.doc}: {e}') from e
    rows = []
    cannot = [e for e in BACKBONES if e.cannot]
    for entry, full, result in et.checked(tiny=False):
        cells = et.checked_cells(entry, full, result)
        measured = old.get(cells[0], [''] * len(et.COLUMNS))[et.CHECKED:]
        if not (args.keep_measured and all(measured)):
            measured = list(et.measure(full))
        rows.append(cells + measured)
        print(' | '.join(rows[-1]), flush=True)
        # Each line as it is done: the rest keep the page's for now.
        doc = et.with_section(doc, et.table(
            rows + [row for name, row in old.items()
                    if name not in {r[0] for r in rows}], cannot) + (
                        '\n\n' + et.snippets(BACKBONES)))
        with open(args.doc, 'w') as f:
            f.write(doc)
    return 0
