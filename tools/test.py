#!/usr/bin/env python
"""MMDetection-compatible test entry point; see `python tools/test.py -h`."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.test import main

if __name__ == '__main__':
    sys.exit(run_main(main))
