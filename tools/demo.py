#!/usr/bin/env python
"""``make demo``: train the toy detector from scratch and evaluate it."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.demo import main

if __name__ == '__main__':
    sys.exit(run_main(main))
