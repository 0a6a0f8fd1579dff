#!/usr/bin/env python
"""make gpu-check: the GPU path end to end on a GPU node; see ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.gpu_check import main

if __name__ == '__main__':
    sys.exit(run_main(main))
