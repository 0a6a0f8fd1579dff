#!/usr/bin/env python
"""``make study``: pre-training vs random init at toy scale, end to end."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.study import main

if __name__ == '__main__':
    sys.exit(run_main(main))
