#!/usr/bin/env python
"""Validation AP against iterations for work_dirs; see ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.plot_curves import main

if __name__ == '__main__':
    sys.exit(run_main(main))
