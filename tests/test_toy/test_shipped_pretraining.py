"""The shipped pre-trained toy classifier: checked, measured, installed."""
import shutil

import pytest
import torch
from mmengine.config import Config

from rethink_mmdet.analysis import RunLog
from rethink_mmdet.toy.pretraining import (
    check_shipped,
    shipped_paths,
    write_shipped,
)
from rethink_mmdet.toy.study_execute import StudyError
from rethink_mmdet.toy.study_plan import BACKBONE_NAME, PRETRAIN_BASE, TOY_DIR
from rethink_mmdet.toy.study_report import PRETRAIN_TOP1
from rethink_mmdet.toy.study_run import _shipped_pretraining


def test_shipped_classifier_measures_its_record_and_installs(tmp_path):
    record = check_shipped()
    cfg = Config.fromfile(f'{TOY_DIR}/{PRETRAIN_BASE}')
    # The record is the committed config's training.
    assert record['config'] == f'configs/toy/{PRETRAIN_BASE}'
    assert record['iterations'] == cfg.train_cfg.max_iters
    assert record['batch'] == cfg.train_dataloader.batch_size
    assert record['images_seen'] == cfg.train_dataloader.dataset.num_images

    backbone = tmp_path / f'{BACKBONE_NAME}.pth'
    log, line = _shipped_pretraining(str(backbone))
    top1 = log.metric('cls/top1')
    recorded = {int(k): v for k, v in record['held_out_top1'].items()}
    assert top1.keys() == recorded.keys()
    last = max(top1)
    # Measured again on the 1000 held-out images from the float16 file:
    # within a few images of the float32 record.
    assert abs(top1[last] - recorded[last]) <= 0.5
    assert top1[last] >= PRETRAIN_TOP1
    assert f"{record['images_seen']:,} images" in line
    state = torch.load(backbone, weights_only=True)['state_dict']
    assert 'conv1.weight' in state and 'fc.weight' not in state
    assert all(v.dtype == torch.float32 for v in state.values()
               if v.is_floating_point())


def test_a_changed_or_missing_shipped_file_is_refused(tmp_path):
    paths = shipped_paths()
    for path in paths.values():
        shutil.copy(path, tmp_path)
    copy = shipped_paths(str(tmp_path))
    assert check_shipped(str(tmp_path))['sha256']
    with open(copy['weights'], 'r+b') as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(StudyError, match='has sha256 .* says'):
        check_shipped(str(tmp_path))
    (tmp_path / copy['weights'].split('/')[-1]).unlink()
    with pytest.raises(StudyError, match='is missing.*--pretrain'):
        check_shipped(str(tmp_path))


def test_a_pre_training_is_written_in_the_shipped_format(tmp_path):
    classifier = {'backbone.conv1.weight': torch.randn(4, 3, 7, 7),
                  'head.fc.weight': torch.randn(8, 4),
                  'steps': torch.tensor(3)}
    checkpoint = tmp_path / 'iter_3.pth'
    torch.save(dict(state_dict=classifier), checkpoint)
    log = RunLog('w', 'w', val={1: {'cls/top1': 20.0},
                                3: {'cls/top1': 40.0}})
    write_shipped(str(checkpoint), log, str(tmp_path / 'out'), 90.0,
                  dict(iterations=3, batch=2))
    record = check_shipped(str(tmp_path / 'out'))
    assert record['held_out_top1'] == {'1': 20.0, '3': 40.0}
    assert record['training_minutes'] == 1.5
    assert record['iterations'] == 3
    state = torch.load(shipped_paths(str(tmp_path / 'out'))['weights'],
                       weights_only=True)['state_dict']
    assert state['head.fc.weight'].dtype == torch.float16
    assert torch.allclose(state['head.fc.weight'].float(),
                          classifier['head.fc.weight'], atol=1e-2)
    assert state['steps'].dtype == torch.int64
