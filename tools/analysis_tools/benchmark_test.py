#!/usr/bin/env python
"""tools/test.py time by phase, ours vs stock MMDetection; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_test import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
