"""Training hooks configs name: preemption, exact resume, speed switches."""
from .channels_last import ChannelsLastHook, to_channels_last
from .divergence_guard import DivergenceError, DivergenceGuardHook
from .exact_resume import ExactResumeHook
from .preemption import PreemptionHook
from .speed_switches import (
    SPEED_DEFAULTS,
    SpeedSwitchesHook,
    apply_speed_switches,
)

__all__ = ['ChannelsLastHook', 'DivergenceError', 'DivergenceGuardHook',
           'ExactResumeHook', 'PreemptionHook', 'SPEED_DEFAULTS',
           'SpeedSwitchesHook', 'apply_speed_switches', 'to_channels_last']
