#!/usr/bin/env python
"""MMDetection-compatible train entry point; see `python tools/train.py -h`."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.train import main

if __name__ == '__main__':
    sys.exit(run_main(main))
