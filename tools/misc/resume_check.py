#!/usr/bin/env python
"""SIGTERM half-way through tools/dist_train.sh, --resume, final weights
against an uninterrupted run's; see ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.resume_check import main

if __name__ == '__main__':
    sys.exit(run_main(main))
