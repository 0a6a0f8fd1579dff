"""Hooks, optimizers, schedulers, checkpoint I/O, trackers configs name."""
from .checkpointing import (
                            AtomicLocalBackend,
                            CheckpointError,
                            choose_resume_checkpoint,
                            read_checkpoint,
)
from .hooks import (
                            ChannelsLastHook,
                            DivergenceError,
                            DivergenceGuardHook,
                            ExactResumeHook,
                            PreemptionHook,
                            SpeedSwitchesHook,
                            apply_speed_switches,
                            to_channels_last,
)
from .optim_wrapper import MixedPrecisionOptimWrapper
from .schedule_scaling import scale_schedule_to_batch, total_batch_size
from .schedulers import DropBeforeEndLR, drop_points, rule_drop_points
from .tracking import (
                            TRACKERS,
                            ResumableTensorboardVisBackend,
                            ResumableWandbVisBackend,
)

__all__ = [
    'AtomicLocalBackend', 'ChannelsLastHook', 'CheckpointError',
    'DivergenceError', 'DivergenceGuardHook', 'DropBeforeEndLR',
    'ExactResumeHook', 'MixedPrecisionOptimWrapper', 'PreemptionHook',
    'ResumableTensorboardVisBackend', 'ResumableWandbVisBackend',
    'SpeedSwitchesHook', 'TRACKERS', 'apply_speed_switches',
    'choose_resume_checkpoint', 'drop_points', 'read_checkpoint',
    'rule_drop_points', 'scale_schedule_to_batch', 'to_channels_last',
    'total_batch_size'
]
