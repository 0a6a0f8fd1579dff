from .hooks import DivergenceError, DivergenceGuardHook
from .schedule_scaling import scale_schedule_to_batch, total_batch_size
from .schedulers import DropBeforeEndLR, drop_points, rule_drop_points

__all__ = [
    'DivergenceError', 'DivergenceGuardHook', 'DropBeforeEndLR',
    'drop_points', 'rule_drop_points', 'scale_schedule_to_batch',
    'total_batch_size'
]
