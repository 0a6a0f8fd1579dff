#!/usr/bin/env python
"""Casts and ops of one mixed-precision training step; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_casts import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
