#!/usr/bin/env python
"""Writes a random N-image subset of a COCO annotation file (less-data)."""
import sys

from rethink_mmdet.cli.coco_subset import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
