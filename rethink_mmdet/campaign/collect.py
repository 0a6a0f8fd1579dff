"""What a campaign's finished rows give: the paper's tables, the model-zoo
comparison, published checkpoints and an OpenMMLab model index.

```
DIR/collect/tables.md, tables.txt   Table 1 (reference numbers beside
                                    each run), test-time augmentation, the
                                    MMDetection zoo beside our rows, each
                                    row's training time and memory
DIR/collect/weights/ROW-SHA8.pth    each training row's final checkpoint,
                                    published (meta and state_dict only)
DIR/collect/metafile.yml            one model-index entry per row
DIR/collect/model-index.yml         imports it (mim search, compare_zoo)
```

A row that cannot be collected (no validation in its logs, a missing
checkpoint) is left out with one line saying why; the others are
collected, and nothing in the rows' work_dirs is changed.
"""
import glob
import os.path as osp
import re
from typing import Dict, List, Optional

import yaml

from rethink_mmdet.analysis import WorkDirError, read_work_dir
from rethink_mmdet.analysis.model_zoo import HEADER as ZOO_HEADER
from rethink_mmdet.analysis.model_zoo import compare
from rethink_mmdet.analysis.scratch_vs_pretrained import (
    HEADER,
    build_rows,
    format_table,
    reference_numbers,
    without_absent_metrics,
)
from rethink_mmdet.engine.checkpointing import (
    CheckpointError,
    publish_checkpoint,
    write_atomically,
)
from rethink_mmdet.runner import UsageError
from rethink_mmdet.runner.configs import configs_root

from .campaign_dir import Campaign
from .row_results import (
    dataset_of,
    final_validation,
    metadata,
    results,
    training_facts,
)
from .row_sets import Row

COLLECT_DIR = 'collect'
WEIGHTS_DIR = 'weights'
COLLECTION = 'Rethinking ImageNet Pre-training'
TTA_HEADER = ['-tta row', 'evaluates', 'base box AP', 'TTA box AP', 'gain']
RUNS_HEADER = ['row', 'iterations', 'runs', 'training h', 's/iter',
               'memory GB', 'weights']


def collect(campaign: Campaign, out_dir: Optional[str] = None,
            metafile: Optional[str] = None) -> dict:
    """Collects the campaign's finished rows into ``out_dir``.

    Args:
        campaign: The campaign.
        out_dir: Where to write (default ``DIR/collect``).
        metafile: The reference numbers (default ``configs/metafile.yml``).

    Returns:
        ``out_dir``, ``tables`` and ``tables_text`` (the two table files),
        ``metafile`` and ``model_index`` (paths), ``entries`` (the
        metafile's models), ``published`` (row -> weights file),
        ``problems`` (row -> why it was left out) and ``waiting`` (rows
        not finished).

    Raises:
        UsageError: no row has finished.
    """
    out_dir = out_dir or osp.join(campaign.folder, COLLECT_DIR)
    reference = metafile or osp.join(configs_root(), 'metafile.yml')
    done = {row.name: campaign.finished(row) for row in campaign.rows}
    if not any(done.values()):
        raise UsageError(f'no row of {campaign.folder} has finished: '
                         'nothing to collect yet')
    runs, entries, published, problems = {}, {}, {}, {}
    facts = {}
    # Training rows first: a -tta row points at its base row's weights.
    for row in sorted((r for r in campaign.rows if done[r.name]),
                      key=lambda r: r.tta_of is not None):
        try:
            if row.tta_of is None:
                run = read_work_dir(campaign.work_dir(row))
                runs[row.name], facts[row.name] = run, training_facts(run)
                published[row.name] = _publish(
                    campaign, row, done[row.name],
                    osp.join(out_dir, WEIGHTS_DIR))
                entries[row.name] = _training_entry(
                    row, done[row.name], run, facts[row.name],
                    published[row.name])
            else:
                entries[row.name] = _tta_entry(row, done[row.name],
                                               entries, published)
        except (WorkDirError, CheckpointError) as error:
            problems[row.name] = str(error)
            runs.pop(row.name, None)
    paths = _write_model_index(out_dir, list(entries.values()), reference)
    sections = _tables(campaign, runs, entries, facts, published, reference)
    tables = osp.join(out_dir, 'tables.md')
    tables_text = osp.join(out_dir, 'tables.txt')
    for path, markdown, title_format in ((tables, True, '## {}'),
                                         (tables_text, False, '{}')):
        write_atomically('\n\n'.join(
            title_format.format(title) + '\n\n' + format_table(
                rows, markdown=markdown, header=header)
            for title, rows, header in sections) + '\n', path)
    return dict(out_dir=out_dir, tables=tables, tables_text=tables_text,
                **paths, entries=list(entries.values()),
                published=published, problems=problems,
                waiting=[name for name, d in done.items() if not d])


def _publish(campaign: Campaign, row: Row, finished: dict,
             folder: str) -> str:
    """The row's final checkpoint published, or the file an earlier
    collect published from it (newer than the checkpoint)."""
    checkpoint = osp.join(campaign.work_dir(row),
                          f'iter_{finished["iter"]}.pth')
    if osp.isfile(checkpoint):
        name = re.compile(re.escape(row.name) + r'-[0-9a-f]{8}\.pth')
        fresh = [p for p in glob.glob(osp.join(folder, row.name + '-*.pth'))
                 if name.fullmatch(osp.basename(p))
                 and osp.getmtime(p) >= osp.getmtime(checkpoint)]
        if fresh:
            return max(fresh, key=osp.getmtime)
    return publish_checkpoint(checkpoint, folder, row.name)


def config_reference(config: str) -> str:
    """``configs/FOLDER/FILE.py`` for one of the package's configs (as
    ``configs/metafile.yml`` names them), else the absolute path."""
    root = configs_root()
    path = osp.realpath(config)
    if path.startswith(root + osp.sep):
        return 'configs/' + osp.relpath(path, root)
    return path


def _training_entry(row: Row, finished: dict, run, facts,
                    weights: str) -> dict:
    dataset = dataset_of(row.name)
    data = metadata(facts, dataset)
    data['Iterations'] = finished['iter']
    return {'Name': row.name, 'In Collection': COLLECTION,
            'Config': config_reference(row.config), 'Metadata': data,
            'Results': results(final_validation(run), dataset),
            'Weights': weights}


def _tta_entry(row: Row, finished: dict, entries: Dict[str, dict],
               published: Dict[str, str]) -> dict:
    """A -tta row: its evaluation's metrics (``finished.json``), the
    weights of the row it evaluates."""
    dataset = dataset_of(row.name)
    data = {'Training Data': dataset, 'Evaluates': row.tta_of}
    base = entries.get(row.tta_of)
    if base is not None:
        data['Iterations'] = base['Metadata']['Iterations']
    entry = {'Name': row.name, 'In Collection': COLLECTION,
             'Config': config_reference(row.config), 'Metadata': data,
             'Results': results(finished.get('metrics') or {}, dataset)}
    if row.tta_of in published:
        entry['Weights'] = published[row.tta_of]
    return entry


def _write_model_index(out_dir: str, entries: List[dict],
                       reference: str) -> Dict[str, str]:
    collections = [dict(Name=COLLECTION)]
    if osp.isfile(reference):
        with open(reference) as f:
            collections = yaml.safe_load(f).get('Collections') or collections
    metafile = osp.join(out_dir, 'metafile.yml')
    model_index = osp.join(out_dir, 'model-index.yml')
    write_atomically(yaml.safe_dump(
        dict(Collections=collections, Models=entries), sort_keys=False,
        allow_unicode=True), metafile)
    write_atomically(yaml.safe_dump(dict(Import=['metafile.yml'])),
                     model_index)
    return dict(metafile=metafile, model_index=model_index)


def metric_of(entry: dict, name: str) -> Optional[float]:
    """A metric (``'box AP'``) of a metafile entry's results, or None."""
    for result in entry.get('Results') or []:
        if name in (result.get('Metrics') or {}):
            return result['Metrics'][name]
    return None


def _tables(campaign: Campaign, runs, entries, facts, published,
            reference: str) -> list:
    """(title, rows, header) of each table."""
    sections = []
    if runs:
        rows, header = without_absent_metrics(
            build_rows(list(runs.values()), reference), HEADER)
        sections.append(('Table 1: random init vs pre-trained, each at '
                         'its best schedule', rows, header))
    tta = []
    for name, entry in entries.items():
        base = campaign.by_name[name].tta_of
        if base is None:
            continue
        ours = metric_of(entry, 'box AP')
        before = metric_of(entries.get(base, {}), 'box AP')
        gain = (f'{ours - before:+.1f}' if None not in (ours, before)
                else '-')
        tta.append([name, base, _number(before), _number(ours), gain])
    if tta:
        sections.append(('Test-time augmentation', tta, TTA_HEADER))
    measured = {name: dict(box=metric_of(e, 'box AP'),
                           mask=metric_of(e, 'mask AP'))
                for name, e in entries.items()}
    zoo = compare(list(entries), reference_numbers(reference), measured)
    sections.append(('Beside the MMDetection model zoo', zoo, ZOO_HEADER))
    sections.append(('Runs', [_run_row(name, facts[name],
                                       published.get(name))
                              for name in facts if name in entries],
                     RUNS_HEADER))
    return sections


def _run_row(name: str, facts, weights: Optional[str]) -> List[str]:
    per_iter = facts.seconds_per_iter
    return [name, str(facts.iterations), str(facts.runs),
            f'{facts.seconds / 3600:.3f}' if per_iter else '-',
            f'{per_iter:.4f}' if per_iter else '-',
            _number(facts.peak_memory_mb / 1024, 2)
            if facts.peak_memory_mb is not None else '-',
            osp.basename(weights) if weights else '-']


def _number(value: Optional[float], digits: int = 1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'
