from .channels_last import ChannelsLastHook, to_channels_last
from .divergence_guard import DivergenceError, DivergenceGuardHook
from .exact_resume import ExactResumeHook

__all__ = ['ChannelsLastHook', 'DivergenceError', 'DivergenceGuardHook',
           'ExactResumeHook', 'to_channels_last']
