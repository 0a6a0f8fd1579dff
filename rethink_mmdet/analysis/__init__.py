"""Reading work_dirs and building the paper's curves and tables from them."""
from .work_dirs import RunLog, WorkDirError, read_work_dir

__all__ = ["RunLog", "WorkDirError", "read_work_dir"]
