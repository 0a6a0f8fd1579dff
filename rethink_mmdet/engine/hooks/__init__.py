from .divergence_guard import DivergenceError, DivergenceGuardHook

__all__ = ['DivergenceError', 'DivergenceGuardHook']
