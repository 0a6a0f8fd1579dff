from .divergence_guard import DivergenceError, DivergenceGuardHook
from .exact_resume import ExactResumeHook

__all__ = ['DivergenceError', 'DivergenceGuardHook', 'ExactResumeHook']
