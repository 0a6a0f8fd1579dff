"""Reading work_dirs into the paper's curves, tables and zoo comparison."""
from .work_dirs import RunLog, WorkDirError, read_work_dir

__all__ = ["RunLog", "WorkDirError", "read_work_dir"]
