#!/usr/bin/env python
"""Generates the embedded synthetic COCO dataset (data/synthetic_coco)."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.make_synthetic_coco import main

if __name__ == '__main__':
    sys.exit(run_main(main))
