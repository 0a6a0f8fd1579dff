"""The toy-scale study (``make study``): plan, execution, report."""
from .execute import StudyError, is_done, train
from .plan import SCALES, Run, Scale, plan_runs
from .report import write_report

__all__ = ['SCALES', 'Run', 'Scale', 'StudyError', 'is_done', 'plan_runs',
           'train', 'write_report']
