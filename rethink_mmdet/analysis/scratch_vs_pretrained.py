"""The paper's Table 1 layout from work_dirs: random init vs pre-training.

For each model (the config name without its init and schedule), the best
run of each init by final box AP (the paper reports each side at its best
schedule), its box AP/AP50/AP75 and mask AP/AP50/AP75 in %, a Δ row
(random init - pre-train), and beside each run the reference number that
``configs/metafile.yml`` holds for its config, with the gap.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.analysis.work_dirs import RunLog

COLUMNS = (('box AP', 'coco/bbox_mAP'), ('AP50', 'coco/bbox_mAP_50'),
           ('AP75', 'coco/bbox_mAP_75'), ('mask AP', 'coco/segm_mAP'),
           ('AP50', 'coco/segm_mAP_50'), ('AP75', 'coco/segm_mAP_75'))
INIT_LABELS = {'scratch': 'random init', 'pretrained': 'w/ pre-train'}


def model_key(name: str) -> str:
    """The model a config trains, without its init and schedule fields (a
    name outside MMDetection's naming rule is its own model)."""
    fields = name.split('_')
    if len(fields) < 3:
        return name
    for init in ('-scratch', '-pretrained'):
        fields[1] = fields[1].replace(init, '')
    return '_'.join(fields[:-2] + fields[-1:])


def final_metrics(run: RunLog) -> Dict[str, float]:
    """The last validation's Table 1 metrics, in % (absent ones omitted)."""
    last = run.val[max(run.val)]
    return {key: 100 * last[key] for _, key in COLUMNS if key in last}


def reference_numbers(metafile: Optional[str]) -> Dict[str, dict]:
    """``{config name: {'box AP': x, 'mask AP': y, 'source': s}}``, from the
    first source listed for each config in the metafile."""
    if metafile is None or not osp.isfile(metafile):
        return {}
    import yaml
    with open(metafile) as f:
        models = yaml.safe_load(f)['Models']
    references = {}
    for model in models:
        for result in model.get('Results', []):
            entry = references.setdefault(model['Name'],
                                          {'source': result.get('Source')})
            if entry['source'] == result.get('Source'):
                entry.update(result['Metrics'])
    return references


def build_rows(runs: Sequence[RunLog],
               metafile: Optional[str] = None) -> List[List[str]]:
    """Table rows: model, init, run, six metrics, reference, gap."""
    references = reference_numbers(metafile)
    groups: Dict[str, Dict[str, RunLog]] = {}
    for run in runs:
        best = groups.setdefault(model_key(run.name), {})
        init = run.init or 'unknown'
        box = final_metrics(run).get('coco/bbox_mAP', float('-inf'))
        if init not in best or box > final_metrics(best[init]).get(
                'coco/bbox_mAP', float('-inf')):
            best[init] = run
    rows = []
    for model, by_init in groups.items():
        metrics = {init: final_metrics(run) for init, run in by_init.items()}
        for init, run in by_init.items():
            values = [_fmt(metrics[init].get(key)) for _, key in COLUMNS]
            reference = references.get(run.name, {})
            ref_box = reference.get('box AP')
            gap = (metrics[init].get('coco/bbox_mAP', float('nan')) - ref_box
                   if ref_box is not None else None)
            rows.append([model, INIT_LABELS.get(init, init), run.name,
                         *values,
                         _reference_text(reference), _fmt(gap, signed=True)])
        if 'scratch' in metrics and 'pretrained' in metrics:
            delta = [_fmt(metrics['scratch'][key] -
                          metrics['pretrained'][key], signed=True)
                     if key in metrics['scratch'] and
                     key in metrics['pretrained'] else '-'
                     for _, key in COLUMNS]
            rows.append([model, 'Δ', '', *delta, '', ''])
    return rows


def _fmt(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return '-'
    return f'{value:+.1f}' if signed else f'{value:.1f}'


def _reference_text(reference: dict) -> str:
    if not reference:
        return '-'
    numbers = '/'.join(str(reference[k]) for k in ('box AP', 'mask AP')
                       if k in reference)
    return f'{numbers} ({reference["source"]})'


HEADER = ['model', 'init', 'run', *[c for c, _ in COLUMNS],
          'reference box/mask', 'box gap']


def without_absent_metrics(rows: List[List[str]], header: Sequence[str]
                           ) -> Tuple[List[List[str]], List[str]]:
    """The rows and header without the metric columns no row has (all
    '-'): a detector without a mask head gets no mask columns."""
    metrics = range(3, 3 + len(COLUMNS))  # after model, init, run
    absent = {i for i in metrics if rows and all(row[i] == '-'
                                                 for row in rows)}
    keep = [i for i in range(len(header)) if i not in absent]
    return ([[row[i] for i in keep] for row in rows],
            [header[i] for i in keep])


def format_table(rows: List[List[str]], markdown: bool = False,
                 header: Sequence[str] = HEADER) -> str:
    """Aligned text, or a Markdown table."""
    if markdown:
        lines = ['| ' + ' | '.join(header) + ' |',
                 '|' + '---|' * len(header)]
        lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
        return '\n'.join(lines)
    widths = [max(len(str(r[i])) for r in [list(header)] + rows)
              for i in range(len(header))]
    return '\n'.join('  '.join(str(cell).ljust(w)
                               for cell, w in zip(row, widths)).rstrip()
                     for row in [list(header)] + rows)
