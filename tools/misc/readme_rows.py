#!/usr/bin/env python
"""Writes README.md's table of rows from configs/metafile.yml.

The table sits between the markers ``<!-- rows:begin -->`` and
``<!-- rows:end -->``; the rest of the README is left alone. One line per
experiment and model: the schedules of its scratch and pre-trained rows
(read from the config names, MMDetection's naming rule) and the reference
numbers the metafile attaches to them. ``tests/test_readme.py`` fails when
the README's table is not this script's output.

    python tools/misc/readme_rows.py          # rewrite the table
    python tools/misc/readme_rows.py --check  # exit 1 if it is stale
"""
import argparse
import os.path as osp
import re
import sys
from typing import Dict, List

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BEGIN, END = '<!-- rows:begin -->', '<!-- rows:end -->'
COLUMNS = ('experiment', 'model', 'scratch', 'pre-trained',
           'reference box / mask AP ([sources](docs/recipe.md#reference-'
           'numbers))')
INITS = {'scratch': 'scratch', 'pretrained': 'pre-trained'}
# Data fields that are the experiment's default, left out of the cells.
DEFAULT_DATA = ('coco', 'voc0712')


def parse_name(name: str) -> Dict[str, str]:
    """The model, init and schedule a config name states:
    ``{algorithm}_{backbone}-{init}_..._{schedule}_{data}``, where the init
    (``scratch`` or ``pretrained``) may be missing."""
    fields = name.split('_')
    arch, _, init = fields[1].rpartition('-')
    if init not in INITS:
        arch, init = fields[1], ''
    schedule = fields[-2]
    if fields[-1] not in DEFAULT_DATA:
        schedule += f' ({fields[-1]})'
    return dict(model=' '.join([fields[0], arch, *fields[2:-2]]),
                init=init, schedule=schedule)


def schedule_order(schedule: str) -> tuple:
    """Iterations a schedule field names (``6x``, ``27k``, ``toy-400i``),
    then test-time augmentation last: the order of a row's schedules."""
    match = re.search(r'(\d+)(x|k|i)\b', schedule)
    iterations = int(match.group(1)) * dict(x=90000, k=1000, i=1)[
        match.group(2)] if match else 0
    return iterations, 'tta' in schedule


def _reference(model: dict) -> str:
    """``Source box / mask`` for each source of the model's results."""
    numbers: Dict[str, List[str]] = {}
    for result in model.get('Results', []):
        source = result['Source'].split(' (')[0]
        numbers.setdefault(source, []).extend(
            str(v) for v in result['Metrics'].values())
    return ', '.join(f'{source} {" / ".join(values)}'
                     for source, values in numbers.items())


def rows_table(metafile: str) -> str:
    """The Markdown table, one line per (experiment, folder, model), in the
    metafile's order."""
    with open(metafile) as f:
        models = yaml.safe_load(f)['Models']
    groups: Dict[tuple, Dict[str, list]] = {}
    for model in models:
        claim = parse_name(model['Name'])
        key = (model['Metadata']['Experiment'],
               osp.dirname(model['Config']), claim['model'])
        group = groups.setdefault(
            key, dict(scratch=[], pretrained=[], references=[]))
        init = claim['init'] or 'scratch'
        group[init].append(claim['schedule'])
        reference = _reference(model)
        if reference:
            group['references'].append(
                f'{INITS[init]} {claim["schedule"]}: {reference}')
    lines = ['| ' + ' | '.join(COLUMNS) + ' |',
             '|' + '---|' * len(COLUMNS)]
    for (experiment, folder, model), group in groups.items():
        cells = [f'[{experiment}]({folder}/)', f'`{model}`']
        for init in ('scratch', 'pretrained'):
            cells.append(', '.join(sorted(group[init], key=schedule_order))
                         or '—')
        cells.append('; '.join(group['references']) or '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    begin, end = readme.find(BEGIN), readme.find(END)
    if begin < 0 or end < begin:
        raise ValueError(f'no {BEGIN} ... {END} markers')
    return readme[:begin + len(BEGIN)] + '\n' + table + '\n' + readme[end:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='exit 1, changing nothing, if the README '
                        'differs from the metafile')
    parser.add_argument('--readme', default=osp.join(REPO_ROOT, 'README.md'),
                        help='the README to update (default: README.md)')
    args = parser.parse_args(argv)
    try:
        with open(args.readme) as f:
            readme = f.read()
        updated = with_table(readme, rows_table(
            osp.join(REPO_ROOT, 'configs', 'metafile.yml')))
    except (OSError, ValueError) as e:
        print(f'error: {args.readme}: {e}', file=sys.stderr)
        return 2
    if args.check:
        if updated != readme:
            print(f'{args.readme}: the table of rows differs from '
                  'configs/metafile.yml; run python '
                  'tools/misc/readme_rows.py')
            return 1
        return 0
    with open(args.readme, 'w') as f:
        f.write(updated)
    return 0


if __name__ == '__main__':
    sys.exit(main())
