# MMDetection's runtime, iteration-based, with this package's modules.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['rethink_mmdet'], allow_failed_imports=False)

default_hooks = dict(
    # Metrics logged by iteration, for AP-vs-iteration curves.
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=10000,
        max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

custom_hooks = [
    # Stop at the first non-finite loss, before the NaN model is saved.
    dict(type='DivergenceGuardHook'),
    # Checkpoints carry the random state: resume repeats the run exactly.
    dict(type='ExactResumeHook'),
    # On SIGTERM or SIGUSR1 (a preemption, tools/slurm/train.sbatch's
    # time-limit signal): checkpoint after the current iteration, exit 0.
    dict(type='PreemptionHook'),
    # Applies `speed` below before the first iteration.
    dict(type='SpeedSwitchesHook'),
]

# Speed switches, all off until a GPU measurement shows they pay
# (docs/benchmarks.md, "Speed switches"; --cfg-options speed.KEY=VALUE):
# fixed_shapes=[(800, 1344), (1344, 800)] pads every batch to one of these
# (h, w) and turns on cudnn.benchmark; channels_last=True;
# compile.enabled=True compiles the backbone and neck (torch.compile; its
# arguments go next to `enabled`).
speed = dict(fixed_shapes=None, channels_last=False,
             compile=dict(enabled=False))
