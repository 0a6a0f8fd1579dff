#!/usr/bin/env python
"""AnySyncBN vs BN over several processes; see ``-h``."""
import sys

from rethink_mmdet.cli.benchmark_sync_bn import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
