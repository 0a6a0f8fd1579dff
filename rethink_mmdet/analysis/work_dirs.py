"""Reading what mmengine writes into a work_dir, for the analysis tools.

mmengine's ``LocalVisBackend`` appends one JSON object per logged step to
``WORK_DIR/TIMESTAMP/vis_data/scalars.json``: training records carry
``iter``, ``lr`` and the losses; validation records carry the metrics
(``coco/bbox_mAP``, ...) and ``step``, the iteration they were taken at. A
resumed run writes a new ``TIMESTAMP`` folder that starts after its
checkpoint; its records replace the interrupted run's from that iteration
on, so a curve has neither duplicated nor missing points.
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional


class WorkDirError(ValueError):
    """A work_dir the analysis tools cannot use (message names the path)."""


@dataclass
class RunLog:
    """One training run, possibly resumed several times.

    Attributes:
        work_dir: The work_dir it was read from.
        name: The config's stem (mmengine dumps the config there).
        train: Training records by iteration.
        val: Validation metrics by iteration.
        config_path: The dumped config, if any.
    """
    work_dir: str
    name: str
    train: Dict[int, dict] = field(default_factory=dict)
    val: Dict[int, dict] = field(default_factory=dict)
    config_path: Optional[str] = None

    def has_metric(self, key: str) -> bool:
        """Whether any validation logged ``key`` (a Faster R-CNN logs no
        ``'coco/segm_mAP'``)."""
        return any(key in record for record in self.val.values())

    def metric(self, key: str) -> Dict[int, float]:
        """One validation metric by iteration, e.g. ``'coco/bbox_mAP'``."""
        values = {it: rec[key] for it, rec in self.val.items() if key in rec}
        if not values:
            known = sorted({k for rec in self.val.values() for k in rec})
            raise WorkDirError(f'{self.work_dir}: no {key!r} in its '
                               f'validation results; it has {known}')
        return dict(sorted(values.items()))

    @property
    def init(self) -> Optional[str]:
        """``'scratch'`` or ``'pretrained'`` when the run's init is known."""
        for init in ('scratch', 'pretrained'):
            if f'-{init}_' in self.name or f'-{init}-' in self.name:
                return init
        return None

    def lr_drops(self) -> List[int]:
        """Iterations where the LR drops: from the run's config when it has
        a ``DropBeforeEndLR`` rule, else where the logged LR fell by 5x or
        more (exact to the logging interval)."""
        from_config = self._configured_drops()
        if from_config is not None:
            return from_config
        iters = sorted(it for it, rec in self.train.items() if 'lr' in rec)
        drops = []
        for before, after in zip(iters, iters[1:]):
            if self.train[after]['lr'] * 5 <= self.train[before]['lr']:
                drops.append(after)
        return drops


    def load_config(self):
        """The config mmengine dumped into the work_dir, or None."""
        if self.config_path is None:
            return None
        from mmengine.config import Config

        import rethink_mmdet  # noqa: F401  (registers, patches)
        return Config.fromfile(self.config_path)

    def _configured_drops(self) -> Optional[List[int]]:
        from rethink_mmdet.engine.schedulers import rule_drop_points
        cfg = self.load_config()
        if cfg is None:
            return None
        for scheduler in cfg.get('param_scheduler') or []:
            if scheduler.get('type') == 'DropBeforeEndLR':
                end = scheduler.get('end', cfg.train_cfg.max_iters)
                return rule_drop_points(scheduler, end)
        return None


def _metric_record(record: dict) -> bool:
    return 'step' in record and 'iter' not in record and any(
        '/' in key for key in record)


def read_work_dir(work_dir: str, require_validation: bool = True) -> RunLog:
    """Reads every run in ``work_dir`` into one :class:`RunLog`.

    Args:
        work_dir: The folder.
        require_validation: Refuse a run with no validation result yet
            (False: a run in progress, for its status).

    Raises:
        WorkDirError: when the folder or its scalars are missing, or it has
            no validation result (as ``require_validation`` says).
    """
    if not osp.isdir(work_dir):
        raise WorkDirError(f'{work_dir}: not a directory')
    scalar_files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not scalar_files:
        raise WorkDirError(f'{work_dir}: no */vis_data/scalars.json; is it a '
                           'work_dir of tools/train.py?')
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    name = (osp.splitext(osp.basename(configs[0]))[0] if configs else
            osp.basename(osp.normpath(work_dir)))
    run = RunLog(work_dir=work_dir, name=name,
                 config_path=configs[0] if configs else None)
    for path in scalar_files:  # timestamps sort chronologically
        train, val = {}, {}
        last_iter = 0
        with open(path) as f:
            for line_no, line in enumerate(f, 1):
                # A line without its newline is still being written (the
                # run is in progress).
                if not line.strip() or not line.endswith('\n'):
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise WorkDirError(f'{path}:{line_no}: not JSON ({e})')
                if _metric_record(record):
                    # Logged with log_metric_by_epoch=True, an iteration
                    # run stamps its metrics with epoch 0: take the
                    # iteration of the training record before them.
                    val[record['step'] or last_iter] = record
                elif 'iter' in record:
                    train[record['iter']] = record
                    last_iter = record['iter']
        if not train and not val:
            continue
        start = min(list(train) + list(val))
        # A resumed run redoes everything after its checkpoint.
        run.train = {i: r for i, r in run.train.items() if i < start}
        run.val = {i: r for i, r in run.val.items() if i < start}
        run.train.update(train)
        run.val.update(val)
    if require_validation and not run.val:
        raise WorkDirError(
            f'{work_dir}: no validation results in {len(scalar_files)} '
            'scalars.json file(s); train with a val_interval shorter than '
            'max_iters (the rows validate every 30k iterations)')
    return run
