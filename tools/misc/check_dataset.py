#!/usr/bin/env python
"""Lists every problem of a config's datasets; exits 1 if there is an error.

    python tools/misc/check_dataset.py CONFIG [--splits train_dataloader]
"""
import sys

from rethink_mmdet.cli.check_dataset import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
