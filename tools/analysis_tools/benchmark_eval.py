#!/usr/bin/env python
"""CocoMetric vs FasterCocoMetric on a generated problem; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_eval import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
