#!/usr/bin/env python
"""The data check vs mmdet's load of a train2017-sized file; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_data_check import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
