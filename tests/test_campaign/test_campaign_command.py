"""tools/campaign.py on this machine (the local executor): a row killed
mid-run shows as failed and ``submit --resume-failed`` continues it from
its checkpoint; ``status --watch`` returns once every row has ended; a
missing ``sbatch`` is one line."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_CONFIG,
    as_cli_options,
    run_tool,
    toy_overrides,
)
from rethink_mmdet.testing.runs import run_records

CAMPAIGN = [sys.executable, os.path.join(REPO_ROOT, 'tools', 'campaign.py')]


@pytest.mark.slow
def test_a_killed_row_fails_and_resume_failed_continues_it(tiny_coco,
                                                          tmp_path):
    folder = tmp_path / 'campaign'
    options = as_cli_options(toy_overrides(tiny_coco, 6, 3))
    command = [*CAMPAIGN, 'submit', TOY_CONFIG, '--campaign-dir',
               str(folder), *options]
    # The machine goes down mid-run: the campaign and its training die.
    process = subprocess.Popen(command, cwd=tmp_path, start_new_session=True,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    start = time.monotonic()
    work = folder / os.path.splitext(os.path.basename(TOY_CONFIG))[0]
    while not (work / 'iter_3.pth').exists():
        assert process.poll() is None, 'the run ended before iteration 3'
        assert time.monotonic() - start < 300
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (work / 'finished.json').exists()

    status = run_tool([*CAMPAIGN, 'status', '--campaign-dir', str(folder)],
                      returncode=1)
    assert ' failed ' in status.stdout.splitlines()[1]
    again = run_tool([*CAMPAIGN, 'submit', '--campaign-dir', str(folder)],
                     returncode=1)
    assert '--resume-failed restarts it' in again.stdout
    resumed = run_tool([*CAMPAIGN, 'submit', '--campaign-dir', str(folder),
                        '--resume-failed'])
    assert 'started after iteration 3' in resumed.stdout
    assert ' done ' in resumed.stdout.splitlines()[-2]
    runs = run_records(work)
    assert list(runs[-1]) == [4, 5, 6]
    with open(folder / 'jobs.json') as f:
        assert len(json.load(f)[work.name]) == 2


def test_status_watch_returns_once_every_row_has_ended(tmp_path):
    rows = [Row('a', TOY_CONFIG, 2), Row('b', TOY_CONFIG, 2)]
    campaign = Campaign.open(str(tmp_path / 'c'), rows)
    for row in rows:
        os.makedirs(campaign.work_dir(row))
        with open(os.path.join(campaign.work_dir(row), 'finished.json'),
                  'w') as f:
            json.dump(dict(kind='train', iter=2), f)
    start = time.monotonic()
    result = run_tool([*CAMPAIGN, 'status', '--campaign-dir',
                       str(tmp_path / 'c'), '--watch', '30'])
    assert time.monotonic() - start < 30
    assert result.stdout.splitlines()[-1] == '2 done'


def test_slurm_without_sbatch_is_one_line(tmp_path):
    bare = dict(os.environ, PATH=os.path.dirname(sys.executable))
    result = subprocess.run(
        [*CAMPAIGN, 'submit', TOY_CONFIG, '--campaign-dir',
         str(tmp_path / 'c'), '--executor', 'slurm'], capture_output=True,
        text=True, env=bare, cwd=tmp_path, timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith('error: sbatch is not on PATH')
    assert result.stderr.count('\n') == 1
