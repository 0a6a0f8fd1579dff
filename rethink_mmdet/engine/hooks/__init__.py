from .divergence_guard import DivergenceError, DivergenceGuardHook
from .exact_resume import ExactResumeHook
from .preemption import PreemptionHook

__all__ = ['DivergenceError', 'DivergenceGuardHook', 'ExactResumeHook',
           'PreemptionHook']
