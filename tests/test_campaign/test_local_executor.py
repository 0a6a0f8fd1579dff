"""The local executor: rows N at a time, each once the rows it needs are
done (their end hook included), a failed row stopping only the rows that
need it; its scheduling on a stand-in process, then tiny rows through the
real launcher."""
import json
import os
import os.path as osp
import threading
import time

import pytest

from rethink_mmdet.campaign import local_executor
from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.local_executor import LocalExecutor, RowHooks
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.testing import TOY_CONFIG, as_cli_options, toy_overrides

#: Seconds each stand-in row runs; the rest run 0.05 s. s2 ends while p's
#: slow end hook (0.8 s) runs, after p's process wrote finished.json.
SECONDS = {'p': 0.4, 's2': 0.7}


class _Process:
    """Stands in for ``Launched``: runs for its row's seconds, then writes
    finished.json and exits 0, unless its row's name starts with 'x'."""

    def __init__(self, run, log, on_line=None):
        self.work_dir = run.work_dir
        self.name = osp.basename(run.work_dir)
        self.on_line = on_line
        self.pid, self.start_iter = os.getpid(), 0

    def wait(self):
        time.sleep(SECONDS.get(self.name, 0.05))
        self.on_line(f'{self.name} says hello\n')
        if self.name.startswith('x'):
            return 3
        with open(osp.join(self.work_dir, 'finished.json'), 'w') as f:
            json.dump({}, f)
        return 0


class _Events(RowHooks):
    """Records every hook call; ``end`` can be slow, or fail."""

    def __init__(self, slow_end=(), failing_end=()):
        self.events, self.skipped, self.lines = [], {}, []
        self.slow_end, self.failing_end = slow_end, failing_end
        self.lock = threading.Lock()

    def start(self, row, start_iter):
        with self.lock:
            self.events.append(('start', row.name))

    def line(self, row, line):
        self.lines.append(line)

    def end(self, row, status):
        if row.name in self.slow_end:
            time.sleep(0.8)
        if row.name in self.failing_end:
            raise RuntimeError('the end hook broke')
        with self.lock:
            self.events.append(('end', row.name))

    def skip(self, row, why):
        self.skipped[row.name] = why


def _run(tmp_path, monkeypatch, rows, jobs=2, **hooks):
    monkeypatch.setattr(local_executor, 'Launched', _Process)
    campaign = Campaign.open(str(tmp_path / 'c'), rows)
    events = _Events(**hooks)
    results = LocalExecutor(campaign, jobs, events).run(campaign.rows)
    return campaign, events, results


def _row(name, after=()):
    return Row(name, TOY_CONFIG, 10, after=tuple(after))


def test_rows_go_n_at_a_time_and_wait_for_the_rows_they_need(
        tmp_path, monkeypatch):
    rows = [_row('p'), _row('f1', ['p']), _row('s1'), _row('s2'),
            _row('f2', ['p'])]
    # s2 ends while p's end hook runs: f1 waits for the hook, although
    # p's process wrote finished.json before.
    _, events, results = _run(tmp_path, monkeypatch, rows, slow_end={'p'})
    assert results == dict.fromkeys(['p', 's1', 's2', 'f1', 'f2'], 0)
    running, most = set(), 0
    for what, name in events.events:
        (running.add if what == 'start' else running.discard)(name)
        most = max(most, len(running))
    assert most == 2
    order = events.events
    # The rows that need nothing pass the waiting ones.
    assert order.index(('start', 's1')) < order.index(('end', 'p'))
    for name in ('f1', 'f2'):
        assert order.index(('start', name)) > order.index(('end', 'p'))
    assert 'p says hello\n' in events.lines
    assert events.skipped == {}


def test_a_failed_row_stops_only_the_rows_that_need_it(tmp_path,
                                                       monkeypatch):
    rows = [_row('p'), _row('x1'), _row('f1', ['x1']), _row('s2'),
            _row('g1', ['f1']), _row('f2', ['p'])]
    campaign, events, results = _run(tmp_path, monkeypatch, rows)
    assert results == dict(p=0, x1=3, f1=None, s2=0, g1=None, f2=0)
    assert events.skipped == {'f1': 'needs x1, which did not finish',
                              'g1': 'needs f1, which did not finish'}
    assert [r.name for r in campaign.rows
            if campaign.finished(r) is not None] == [
        'p', 's2', 'f2']
    # A row whose end hook fails has not finished either, whatever its
    # process wrote.
    rows = [_row('p'), _row('f1', ['p']), _row('s1')]
    campaign, events, results = _run(tmp_path / 'end', monkeypatch, rows,
                                     failing_end={'p'})
    assert results == dict(p=1, s1=0, f1=None)
    assert events.skipped == {
        'p': 'stopped by an error: the end hook broke',
        'f1': 'needs p, which did not finish'}


def test_done_rows_are_skipped_and_unmet_needs_never_start(tmp_path,
                                                           monkeypatch):
    rows = [_row('done'), _row('a', ['done']), _row('b', ['elsewhere'])]
    campaign = Campaign.open(str(tmp_path / 'c'), rows)
    os.makedirs(campaign.work_dir(rows[0]))
    with open(osp.join(campaign.work_dir(rows[0]), 'finished.json'),
              'w') as f:
        f.write('{}')
    monkeypatch.setattr(local_executor, 'Launched', _Process)
    events = _Events()
    results = LocalExecutor(campaign, 2, events).run(campaign.rows)
    assert results == dict(a=0, b=None)
    assert events.skipped == {
        'done': 'done', 'b': 'needs elsewhere, which is not in the campaign'}
    # A needed row neither done nor among the rows run.
    rows = [_row('c'), _row('d', ['c'])]
    campaign = Campaign.open(str(tmp_path / 'e'), rows)
    results = LocalExecutor(campaign, 1, events).run(rows[1:])
    assert results == dict(d=None)
    assert events.skipped['d'] == 'needs c, which is neither done nor run here'


@pytest.mark.slow
def test_tiny_rows_through_the_real_launcher(tmp_path, tiny_coco):
    options = tuple(as_cli_options(toy_overrides(tiny_coco, 2)))
    broken = options + ('train_dataloader.dataset.data_root=/nonexistent/',)
    rows = [Row('a', TOY_CONFIG, 2, options), Row('x', TOY_CONFIG, 2, broken),
            Row('after-x', TOY_CONFIG, 2, options, after=('x',)),
            Row('after-a', TOY_CONFIG, 2, options, after=('a',))]
    campaign = Campaign.open(str(tmp_path / 'c'), rows)
    events = _Events()
    results = LocalExecutor(campaign, 2, events).run(rows)
    assert results['a'] == results['after-a'] == 0
    assert results['x'] not in (0, None) and results['after-x'] is None
    assert events.skipped == {'after-x': 'needs x, which did not finish'}
    assert events.events.index(('end', 'a')) < events.events.index(
        ('start', 'after-a'))
    for name in ('a', 'after-a'):
        finished = campaign.finished(campaign.by_name[name])
        assert finished['iter'] == 2 and finished['kind'] == 'train'
    assert campaign.finished(campaign.by_name['x']) is None
    # Each row's output, after its command line, in its train.log; its
    # lines reached the hooks too.
    with open(osp.join(campaign.work_dir(rows[1]), 'train.log')) as f:
        log = f.read()
    assert log.startswith('$ ') and '/nonexistent/' in log.splitlines()[0]
    assert 'Iter(train) [2/2]' in open(osp.join(
        campaign.work_dir(rows[0]), 'train.log')).read()
    assert any('Iter(train) [2/2]' in line for line in events.lines)
    # Run again: the done rows are skipped, the failed one runs again.
    again = _Events()
    results = LocalExecutor(campaign, 2, again).run(rows)
    assert again.skipped == {'a': 'done', 'after-a': 'done',
                             'after-x': 'needs x, which did not finish'}
    assert results['x'] not in (0, None)
    with open(osp.join(campaign.work_dir(rows[1]), 'train.log')) as f:
        assert f.read().count('\n$ ') == 1  # appended: two command lines
