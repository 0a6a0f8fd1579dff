# Runtime shared by every rethink_mmdet config: MMDetection's, made
# iteration-based (the paper states schedules in iterations), with this
# package's modules registered.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['rethink_mmdet'], allow_failed_imports=False)

default_hooks = dict(
    # Validation metrics logged at their iteration (mmengine's default logs
    # them at epoch 0 in iteration-based runs), so the analysis tools can
    # draw AP against iterations from vis_data/scalars.json.
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=10000,
        max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

custom_hooks = [
    # Stop at the first non-finite loss, before the NaN model is saved.
    dict(type='DivergenceGuardHook'),
    # Checkpoints carry the random state: a resumed run repeats the
    # interrupted one exactly (with a fixed seed and deterministic mode).
    dict(type='ExactResumeHook'),
    # On SIGTERM or SIGUSR1 (a preemption, tools/slurm/train.sbatch's
    # time-limit signal): checkpoint after the current iteration, exit 0.
    dict(type='PreemptionHook'),
]
