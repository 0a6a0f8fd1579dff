#!/usr/bin/env python
"""Our configs beside MMDetection's model zoo; see ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.compare_zoo import main

if __name__ == '__main__':
    sys.exit(run_main(main))
