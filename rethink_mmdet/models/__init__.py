from .init_policies import LAST_LAYER_STD, ScratchInit, scratch_problems

__all__ = ['LAST_LAYER_STD', 'ScratchInit', 'scratch_problems']
