#!/usr/bin/env python
"""Writes docs/extending.md's table of every MMDetection backbone from
scratch, from check_scratch_ready.py's report on each. See ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.extending_table import main

if __name__ == '__main__':
    sys.exit(run_main(main))
