"""The CPU toy: the demo, its progress display, and the toy-scale study.

``make demo`` trains the toy detector from scratch; ``make study`` tests
the paper's claims at toy scale from its shipped pre-training."""
from rethink_mmdet.toy.study_execute import StudyError
from rethink_mmdet.toy.study_plan import SCALES, Run, Scale, plan_runs
from rethink_mmdet.toy.study_report import write_report

__all__ = ['SCALES', 'Run', 'Scale', 'StudyError', 'plan_runs',
           'write_report']
