#!/usr/bin/env python
"""Is a config ready to train from scratch? Builds its model on the CPU and
reports per part; exit 1 when a scratch config is not ready. See ``-h``."""
import sys

from rethink_mmdet.cli.check_scratch_ready import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
