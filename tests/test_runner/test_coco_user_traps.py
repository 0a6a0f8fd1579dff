"""What a COCO user hits first: --data-root, a batch other than the
config's without --auto-scale-lr, the data check once per job and not
again on --resume, and the -tta rows (evaluation only)."""
import glob
import os
import os.path as osp
import shutil

import pytest
from mmengine.config import Config

from rethink_mmdet.runner import data_check
from rethink_mmdet.runner.data_root import apply_data_root
from rethink_mmdet.runner.train_job import configure_training
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG, toy_overrides

COCO_ROW = osp.join(REPO_ROOT, 'configs', 'schedule-study',
                    'mask-rcnn_r50-scratch_fpn_gn-all_3x_coco.py')
KEYPOINT_ROW = osp.join(REPO_ROOT, 'configs', 'keypoint',
                        'keypoint-rcnn_r50-scratch_fpn_gn-all_2x_coco-person.py')


@pytest.mark.parametrize('config', [COCO_ROW, KEYPOINT_ROW])
def test_data_root_moves_datasets_and_evaluators(config):
    cfg = Config.fromfile(config)
    apply_data_root(cfg, '/mnt/coco')
    text = cfg.pretty_text
    assert 'data/coco' not in text
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.data_root == '/mnt/coco/'
    evaluators = cfg.val_evaluator if isinstance(cfg.val_evaluator, list) \
        else [cfg.val_evaluator]
    assert all(e.ann_file.startswith('/mnt/coco/annotations/')
               for e in evaluators)


def test_cfg_options_data_root_alone_does_nothing():
    # Why the option exists: mmengine substituted data_root at parse time.
    cfg = Config.fromfile(COCO_ROW)
    cfg.merge_from_dict({'data_root': '/mnt/coco/'})
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'


def test_coco_root_from_the_environment(monkeypatch):
    monkeypatch.setenv('RETHINK_COCO_ROOT', '/mnt/coco')
    cfg = Config.fromfile(COCO_ROW)
    apply_data_root(cfg, None)
    assert cfg.train_dataloader.dataset.data_root == '/mnt/coco/'
    toy = Config.fromfile(TOY_CONFIG)  # not a COCO row: stays
    apply_data_root(toy, None)
    assert toy.train_dataloader.dataset.data_root == 'data/synthetic_coco/'


def test_a_batch_other_than_the_base_batch_warns_once(capsys, monkeypatch,
                                                      tmp_path):
    monkeypatch.setenv('WORLD_SIZE', '4')
    configure_training(COCO_ROW, launcher='pytorch',
                       work_dir=str(tmp_path))
    err = capsys.readouterr().err
    assert err.count('warning:') == 1
    assert ('total batch 8 (4 processes x 2 images) is not the config\'s '
            'base batch 16') in err
    assert '--auto-scale-lr' in err
    configure_training(COCO_ROW, launcher='pytorch', auto_scale_lr=True,
                       work_dir=str(tmp_path))
    assert 'warning:' not in capsys.readouterr().err
    monkeypatch.setenv('WORLD_SIZE', '8')
    configure_training(COCO_ROW, launcher='pytorch', work_dir=str(tmp_path))
    assert 'warning:' not in capsys.readouterr().err


def test_a_passed_check_is_not_repeated_for_unchanged_files(
        tiny_coco, tmp_path, monkeypatch, capsys):
    root = tmp_path / 'data'
    shutil.copytree(tiny_coco, root)
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.merge_from_dict(toy_overrides(str(root), 2))
    cfg.work_dir = str(tmp_path / 'work')
    calls = []
    real = data_check.check_config_datasets
    monkeypatch.setattr(data_check, 'check_config_datasets',
                        lambda *a: calls.append(1) or real(*a))
    data_check.check_data_once(cfg)
    data_check.check_data_once(cfg)
    assert len(calls) == 1
    assert 'data check: skipped, passed before' in capsys.readouterr().out
    # A changed annotation file (new mtime) is checked again.
    ann = root / 'annotations' / 'instances_train.json'
    os.utime(ann, ns=(1, 1))
    data_check.check_data_once(cfg)
    assert len(calls) == 2


TTA_ROWS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*-tta_*.py')))


@pytest.mark.parametrize('tta_row', TTA_ROWS,
                         ids=[osp.basename(p) for p in TTA_ROWS])
def test_a_tta_row_trains_exactly_as_its_base(tta_row):
    base_row = tta_row.replace('-tta_', '_')
    tta, base = Config.fromfile(tta_row), Config.fromfile(base_row)
    evaluation_only = {'tta_model', 'tta_pipeline', 'test_evaluator'}
    assert set(tta.keys()) - evaluation_only == \
        set(base.keys()) - evaluation_only
    for key in base.keys():
        if key not in evaluation_only:
            assert tta[key] == base[key], key
    with open(tta_row) as f:  # the comment says so, and how to evaluate
        header = ' '.join(line[1:].strip() for line in f
                          if line.startswith('#'))
    assert osp.basename(base_row) in header
    assert 'CHECKPOINT --tta' in header


def _check_worker(rank, port, data_root, work_dir, out_dir):
    """One rank of a 2-process job running the data check."""
    import json
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2')
    import rethink_mmdet  # noqa: F401
    from rethink_mmdet.datasets.validation import DatasetError
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.merge_from_dict(toy_overrides(data_root, 2))
    cfg.launcher, cfg.work_dir = 'pytorch', work_dir
    calls = []
    real = data_check.check_config_datasets
    data_check.check_config_datasets = lambda *a: calls.append(1) or real(*a)
    try:
        data_check.check_data_once(cfg)
        outcome = 'ok'
    except DatasetError as e:
        outcome = f'error: {e}'
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(dict(calls=len(calls), outcome=outcome), f)
    # A training job goes on with the group; this one ends here. Leaving
    # gloo's threads to the interpreter's exit aborted a rank once in CI
    # ("terminate called without an active exception").
    import torch.distributed as torch_dist
    if torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def _run_two_ranks(data_root, work_dir, out_dir):
    import json
    import socket
    import time

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    ctx = mp.spawn(_check_worker, nprocs=2, join=False,
                   args=(port, data_root, work_dir, out_dir))
    deadline = time.monotonic() + 120
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail('a rank hung waiting for the verdict')
    return [json.load(open(osp.join(out_dir, f'rank{r}.json')))
            for r in range(2)]


def test_rank_0_checks_and_the_other_rank_takes_its_verdict(tiny_coco,
                                                             tmp_path):
    import json
    root = tmp_path / 'data'
    shutil.copytree(tiny_coco, root)
    out = tmp_path / 'out'
    out.mkdir()
    ranks = _run_two_ranks(str(root), str(tmp_path / 'work'), str(out))
    assert ranks == [dict(calls=1, outcome='ok'), dict(calls=0, outcome='ok')]
    # A broken file: both ranks stop with rank 0's error.
    ann = root / 'annotations' / 'instances_train.json'
    coco = json.loads(ann.read_text())
    coco['annotations'][0]['image_id'] = 10 ** 6
    ann.write_text(json.dumps(coco))
    ranks = _run_two_ranks(str(root), str(tmp_path / 'work'), str(out))
    assert [r['calls'] for r in ranks] == [1, 0]
    assert ranks[0]['outcome'] == ranks[1]['outcome']
    assert 'not in "images"' in ranks[1]['outcome']
