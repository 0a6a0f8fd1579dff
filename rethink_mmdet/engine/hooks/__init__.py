from .channels_last import ChannelsLastHook, to_channels_last
from .divergence_guard import DivergenceError, DivergenceGuardHook
from .exact_resume import ExactResumeHook
from .preemption import PreemptionHook

__all__ = ['ChannelsLastHook', 'DivergenceError', 'DivergenceGuardHook',
           'ExactResumeHook', 'PreemptionHook', 'to_channels_last']
