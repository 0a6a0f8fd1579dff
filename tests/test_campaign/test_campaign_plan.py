"""tools/campaign.py's plan: the rows of the paper's sets, config paths and
globs; the campaign directory's plan, refused for other rows or a work_dir
of another config; the sbatch lines a dry run prints."""
import glob
import json
import os.path as osp
import sys

import pytest

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.row_sets import SETS, Row, rows_from, tta_base
from rethink_mmdet.campaign.slurm_executor import (
    SlurmOptions,
    sbatch_command,
)
from rethink_mmdet.runner import UsageError
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG, run_tool

CONFIGS = osp.join(REPO_ROOT, 'configs')


def _fake_schedule(config, options=()):
    return 1000


def _row_folders():
    return sorted(osp.basename(d) for d in glob.glob(osp.join(CONFIGS, '*'))
                  if osp.isdir(d) and osp.basename(d) not in ('_base_',
                                                               'toy'))


def test_every_row_folder_is_in_a_set_and_all_holds_every_row():
    in_sets = {f for name, (_, folders) in SETS.items() if name != 'all'
               for f in folders}
    assert in_sets == set(_row_folders())
    rows = rows_from(['all'], read_schedule=_fake_schedule)
    on_disk = sorted(osp.splitext(osp.basename(p))[0] for f in _row_folders()
                     for p in glob.glob(osp.join(CONFIGS, f, '*.py')))
    assert sorted(r.name for r in rows) == on_disk
    # Table 1: R50 and R101 GN at every schedule, each side's best taken.
    table1 = rows_from(['table1'], read_schedule=_fake_schedule)
    assert {r.name.split('_')[1] for r in table1} == {
        'r50-scratch', 'r50-pretrained', 'r101-scratch', 'r101-pretrained'}


def test_tta_rows_evaluate_their_base_rows_checkpoint():
    rows = {r.name: r for r in rows_from(['enhanced', 'large'],
                                         read_schedule=_fake_schedule)}
    tta = [r for r in rows.values() if r.tta_of]
    assert len(tta) == 5
    for row in tta:
        assert row.max_iters == 0 and row.tta_of in rows
        assert row.tta_of == row.name.replace('-tta_', '_')
    assert tta_base('mask-rcnn_r50-scratch_fpn_gn-all_6x_coco') is None
    lone = osp.join(CONFIGS, 'large', 'cascade-mask-rcnn_x152-32x8d-scratch_'
                    'fpn_gn-all_train-aug-9x-tta_coco.py')
    with pytest.raises(UsageError, match='evaluates the final checkpoint'):
        rows_from([lone], read_schedule=_fake_schedule)


def test_bad_items_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="'tabel1' is neither a set"):
        rows_from(['tabel1'])
    with pytest.raises(UsageError, match='neither a set'):
        rows_from([str(tmp_path / 'none*.py')])
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'x.py').write_text("_base_ = '" + TOY_CONFIG + "'\n")
    (tmp_path / 'b').mkdir()
    (tmp_path / 'b' / 'x.py').write_text("_base_ = '" + TOY_CONFIG + "'\n")
    with pytest.raises(UsageError, match='two configs named x'):
        rows_from([str(tmp_path / '*' / 'x.py')],
                  read_schedule=_fake_schedule)
    bad = tmp_path / 'bad.py'
    bad.write_text('model = dict(\n')
    with pytest.raises(UsageError, match='bad.py: cannot be read'):
        rows_from([str(bad)])


def test_the_schedule_is_the_configs_after_its_overrides():
    [row] = rows_from([TOY_CONFIG], ['--cfg-options',
                                     'train_cfg.max_iters=7'])
    assert row.max_iters == 7 and row.options[-1] == 'train_cfg.max_iters=7'
    [row] = rows_from([TOY_CONFIG])
    assert row.max_iters == 1200


def test_a_campaign_directory_holds_one_plan(tmp_path):
    rows = [Row('a', TOY_CONFIG, 10), Row('b', TOY_CONFIG, 20)]
    campaign = Campaign.open(str(tmp_path / 'c'), rows)
    with open(tmp_path / 'c' / 'campaign.json') as f:
        assert [r['name'] for r in json.load(f)['rows']] == ['a', 'b']
    assert Campaign.open(str(tmp_path / 'c')).rows == rows
    assert Campaign.open(str(tmp_path / 'c'), rows).rows == rows
    with pytest.raises(UsageError, match='holds another plan'):
        Campaign.open(str(tmp_path / 'c'), rows[:1])
    with pytest.raises(UsageError, match='holds no campaign'):
        Campaign.open(str(tmp_path / 'other'))
    # A dry run writes nothing.
    Campaign.open(str(tmp_path / 'dry'), rows, write=False)
    assert not (tmp_path / 'dry').exists()
    # A work_dir with a run of another config.
    (tmp_path / 'd' / 'a').mkdir(parents=True)
    (tmp_path / 'd' / 'a' / 'other_config.py').write_text('')
    with pytest.raises(UsageError, match='holds a run of other_config.py'):
        Campaign.open(str(tmp_path / 'd'), rows)
    assert campaign.work_dir(rows[0]) == str(tmp_path / 'c' / 'a')


def test_a_programs_own_plan_grows_and_others_are_refused(tmp_path):
    folder = str(tmp_path / 'c')
    a, b, c = (Row(n, TOY_CONFIG, 10) for n in 'abc')
    assert Campaign.grow(folder, [a, b], 'me').rows == [a, b]
    assert Campaign.grow(folder, [a, b, c], 'me').rows == [a, b, c]
    # Fewer rows: the ones it had stay, after these.
    assert Campaign.grow(folder, [c], 'me').rows == [c, a, b]
    assert Campaign.open(folder).rows == [c, a, b]
    # The rows a row waits for may change; what it trains may not.
    later = Row('b', TOY_CONFIG, 10, after=('a',))
    assert Campaign.grow(folder, [a, later], 'me').rows == [a, later, c]
    for other in (Row('b', TOY_CONFIG, 20), Row('b', TOY_CONFIG, 10, ('x',)),
                  Row('b', TOY_CONFIG + 'x', 10)):
        with pytest.raises(UsageError, match='holds a plan whose row b is '
                           '10 iterations of'):
            Campaign.grow(folder, [other], 'me')
    # Another planner, or tools/campaign.py: its rows only.
    with pytest.raises(UsageError, match='holds another plan'):
        Campaign.grow(folder, [a, later, c, Row('d', TOY_CONFIG, 1)], 'you')
    Campaign.open(str(tmp_path / 'theirs'), [a])
    with pytest.raises(UsageError, match='holds another plan'):
        Campaign.grow(str(tmp_path / 'theirs'), [a, b], 'me')
    assert Campaign.grow(str(tmp_path / 'theirs'), [a], 'me').rows == [a]


def test_sbatch_lines(tmp_path):
    rows = [Row('base', TOY_CONFIG, 10, ('--data-root', '/d')),
            Row('base-tta', TOY_CONFIG, 0, (), tta_of='base')]
    campaign = Campaign(str(tmp_path / 'camp'), rows)
    gpu = SlurmOptions(nodes=2, partition='gpu', account='lab', qos='high',
                       time='2-00:00:00')
    line = sbatch_command(campaign, rows[0], gpu, ['--track', 'tensorboard'])
    for option in ('--nodes=2', '--ntasks-per-node=8', '--gres=gpu:8',
                   '--partition=gpu', '--account=lab', '--qos=high',
                   '--time=2-00:00:00', '--signal=B:USR1@300',
                   f'--output={tmp_path}/camp/base/slurm-%j.out'):
        assert option in line
    assert line[-6:] == [TOY_CONFIG, str(tmp_path / 'camp' / 'base'),
                         '--data-root', '/d', '--track', 'tensorboard']
    assert line[-7].endswith('tools/slurm/train.sbatch')
    assert f'PYTHON={sys.executable}' in line[line.index(next(
        a for a in line if a.startswith('--export')))]
    cpu = sbatch_command(campaign, rows[1], SlurmOptions(
        gpus_per_node=0, cpus_per_task=1, time='5'), dependency='42')
    assert '--gres=none' in cpu and '--ntasks-per-node=1' in cpu
    assert '--dependency=afterok:42' in cpu
    assert any('CPU_ONLY=1' in a for a in cpu)
    assert cpu[-5].endswith('tools/slurm/test.sbatch')
    assert cpu[-4:] == [TOY_CONFIG, str(tmp_path / 'camp' / 'base' /
                                        'iter_10.pth'),
                        str(tmp_path / 'camp' / 'base-tta'), '--tta']


def test_the_command_lists_sets_and_prints_table1_as_sbatch_lines(tmp_path):
    listed = run_tool([sys.executable, 'tools/campaign.py', 'plan'])
    assert listed.stdout.splitlines()[0].startswith('table1 ')
    assert {line.split()[0] for line in listed.stdout.splitlines()} == \
        set(SETS)
    dry = run_tool([sys.executable, 'tools/campaign.py', 'submit', 'table1',
                    '--executor', 'slurm', '--dry-run', '--campaign-dir',
                    str(tmp_path / 'c'), '--partition', 'gpu'])
    lines = [line for line in dry.stdout.splitlines()
             if line.startswith('sbatch ')]
    assert len(lines) == len(rows_from(['table1'],
                                       read_schedule=_fake_schedule)) == 13
    assert all('--partition=gpu' in line and 'train.sbatch' in line
               for line in lines)
    assert not (tmp_path / 'c').exists()
    unknown = run_tool([sys.executable, 'tools/campaign.py', 'submit',
                        'tabel1', '--campaign-dir', str(tmp_path / 'c')],
                       returncode=2)
    assert unknown.stderr.startswith("error: 'tabel1' is neither a set")
    assert unknown.stderr.count('\n') == 1
