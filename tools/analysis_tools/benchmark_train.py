#!/usr/bin/env python
"""Training-step time and memory, ours vs stock MMDetection; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_train import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
