"""Evaluation as ``tools/test.py`` runs it."""
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config

from rethink_mmdet.runner import (
    UsageError,
    build_runner,
    load_config,
    mark_finished,
    release_process_group,
    resolve_work_dir,
)


def configure_test(config: str, checkpoint: str,
                   cfg_options: Optional[dict] = None,
                   work_dir: Optional[str] = None, launcher: str = 'none',
                   tta: bool = False, out: Optional[str] = None,
                   data_root: Optional[str] = None) -> Config:
    """The config the Runner gets for evaluating ``checkpoint``.

    Args:
        config: Config file path.
        checkpoint: The weights to evaluate.
        cfg_options: ``--cfg-options`` overrides.
        work_dir: ``--work-dir``.
        launcher: ``--launcher``.
        tta: Test-time augmentation (the config's ``tta_model`` and
            ``tta_pipeline``).
        out: A ``.pkl`` file for the raw predictions.
        data_root: ``--data-root`` (:mod:`.data_root`).
    """
    cfg = load_config(config, cfg_options, data_root)
    cfg.launcher = launcher
    resolve_work_dir(cfg, work_dir, config)
    if not osp.isfile(checkpoint):
        raise UsageError(f'checkpoint not found: {checkpoint}')
    cfg.load_from = checkpoint
    if tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise UsageError(f'--tta needs tta_model and tta_pipeline in '
                             f'{config}')
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    if out is not None:
        if not out.endswith(('.pkl', '.pickle')):
            raise UsageError(f'--out must be a .pkl file, got {out}')
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpDetResults', out_file_path=out)]
    return cfg


def test(cfg: Config) -> Dict[str, float]:
    """Evaluates; returns the metrics."""
    runner = build_runner(cfg)
    metrics = runner.test()
    mark_finished(runner, 'test', checkpoint=cfg.load_from,
                  metrics={k: float(v) for k, v in metrics.items()
                           if isinstance(v, (int, float))})
    release_process_group()
    return metrics
