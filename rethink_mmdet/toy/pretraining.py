"""The study's ImageNet stand-in, shipped as the paper's ImageNet models are.

The paper fine-tunes public ImageNet weights; nobody re-trains ImageNet for
each detection experiment. Likewise ``make study`` fine-tunes a pre-trained
toy classifier shipped in :data:`SHIPPED_DIR` (float16, 5 MB) and trains
only the detectors, while ``make study PRETRAIN=1`` (``--pretrain``)
re-trains it from its committed config first and writes the same two files
under ``OUT/pretrain/``, ready to replace the shipped ones.

The files are the classifier's weights and a record (sha256 of the weights,
config, seed, length, held-out top-1 curve, training time). The study checks
the sha256 and measures the held-out top-1 again before using the weights,
so the report's pre-training number is measured in the run that uses it.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

from rethink_mmdet.analysis.work_dirs import RunLog, read_work_dir
from rethink_mmdet.engine.checkpointing import file_sha256
from rethink_mmdet.toy.study_execute import StudyError
from rethink_mmdet.toy.study_plan import PRETRAIN_BASE, Run

SHIPPED_DIR = osp.join(osp.dirname(__file__), 'pretrained')
SHIPPED_NAME = 'classifier_r18-tiny_gn_toy-12000i_synthetic-shapes'
TOP1 = 'cls/top1'


def shipped_paths(folder: str = SHIPPED_DIR,
                  name: str = SHIPPED_NAME) -> Dict[str, str]:
    """The weights (``.pth``) and record (``.json``) in ``folder``."""
    stem = osp.join(folder, name)
    return dict(weights=stem + '.pth', record=stem + '.json')


def check_shipped(folder: str = SHIPPED_DIR,
                  name: str = SHIPPED_NAME) -> dict:
    """The record of the shipped weights, after checking their sha256.

    Raises:
        StudyError: A file is missing, or the weights are not the recorded
            ones (a Git LFS pointer, a partial copy, an edited file).
    """
    paths = shipped_paths(folder, name)
    for path in paths.values():
        if not osp.isfile(path):
            raise StudyError(
                f'{path} is missing: the shipped pre-trained classifier '
                'comes with the package; re-train it with make study '
                'PRETRAIN=1 (tools/study.py --pretrain)')
    with open(paths['record']) as f:
        record = json.load(f)
    actual = file_sha256(paths['weights'])
    if actual != record['sha256']:
        raise StudyError(
            f"{paths['weights']} has sha256 {actual[:12]}..., its record "
            f"{paths['record']} says {record['sha256'][:12]}...: restore "
            'the file (git checkout) or re-train it with --pretrain')
    return record


def write_shipped(checkpoint: str, log: RunLog, folder: str,
                  seconds: Optional[float], facts: dict,
                  name: str = SHIPPED_NAME) -> Dict[str, str]:
    """Writes a pre-training's classifier as shippable weights + record.

    Args:
        checkpoint: The pre-training's last Runner checkpoint, read as
            data (the caller allows mmengine's training-state types).
        log: Its logged validations (held-out top-1 by iteration).
        folder: Output folder.
        seconds: Its training time, if known.
        facts: Config, seed, batch, iterations, images seen: written as
            given.
    """
    import torch
    from mmengine.runner import CheckpointLoader
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    weights = {key: value.half() if value.is_floating_point() else value
               for key, value in state['state_dict'].items()}
    paths = shipped_paths(folder, name)
    os.makedirs(folder, exist_ok=True)
    torch.save(dict(state_dict=weights), paths['weights'])
    record = dict(facts, sha256=file_sha256(paths['weights']),
                  stored_as='float16',
                  held_out_top1={str(it): value for it, value in
                                 log.metric(TOP1).items()},
                  training_minutes=None if seconds is None else
                  round(seconds / 60, 1))
    with open(paths['record'], 'w') as f:
        json.dump(record, f, indent=1)
    return paths


def _trained_facts(run: Run) -> dict:
    """What the shipped record says of a pre-training run."""
    import datetime
    import platform

    from mmengine.config import Config

    batch = Config.fromfile(run.config).train_dataloader.batch_size
    return dict(config='configs/toy/' + PRETRAIN_BASE, seed=run.seed,
                iterations=run.max_iters, batch=batch,
                images_seen=run.max_iters * batch,
                trained_on=f'{os.cpu_count()} CPU cores '
                f'({platform.machine()}), {datetime.date.today()}')


def export_trained(run: Run, backbone: str,
                   seconds: Optional[float]) -> int:
    """Writes the backbone of a finished pre-training ``run`` as
    ``backbone`` (the public ImageNet models' key layout, which the
    fine-tunings load) and its classifier in the shipped format in the
    same folder, ready to replace the shipped one; returns the backbone's
    tensor count.

    Args:
        seconds: Its training time, if known (the record's).
    """
    from rethink_mmdet.engine.checkpointing import training_checkpoint_globals
    from rethink_mmdet.models.classifier import export_backbone
    last = osp.join(run.work_dir, f'iter_{run.max_iters}.pth')
    with training_checkpoint_globals():  # a Runner checkpoint
        count = export_backbone(last, backbone)
        write_shipped(last, read_work_dir(run.work_dir),
                      osp.dirname(backbone), seconds, _trained_facts(run))
    return count


def held_out_top1(config: str, weights: str) -> float:
    """Top-1 (%) of the classifier ``weights`` on the held-out images of
    ``config``'s validation set."""
    import torch
    from mmdet.registry import DATASETS, MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config

    from rethink_mmdet.evaluation import ClassificationAccuracy
    register_all_modules()
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    state = torch.load(weights, map_location='cpu', weights_only=True)
    model.load_state_dict(state['state_dict'])
    model.eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    batch = cfg.val_dataloader.batch_size
    # The metric the pre-training's own validations log.
    metric = ClassificationAccuracy()
    with torch.no_grad():
        for start in range(0, len(dataset), batch):
            items = [dataset[i] for i in
                     range(start, min(start + batch, len(dataset)))]
            data = model.data_preprocessor(
                dict(inputs=[item['inputs'] for item in items],
                     data_samples=[item['data_samples'] for item in items]),
                False)
            metric.process(None, model(**data, mode='predict'))
    return metric.compute_metrics(metric.results)['top1']


def shipped_log(record: dict, measured_top1: float) -> RunLog:
    """The shipped pre-training's curve, its last point measured now."""
    curve = {int(it): value for it, value in record['held_out_top1'].items()}
    curve[max(curve)] = measured_top1
    return RunLog(work_dir=SHIPPED_DIR, name=SHIPPED_NAME,
                  val={it: {TOP1: value} for it, value in curve.items()})
