#!/usr/bin/env python
"""Train data-pipeline images/s, ours vs stock MMDetection; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_data import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
