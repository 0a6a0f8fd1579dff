#!/usr/bin/env python
"""Table 1 (random init vs pre-train) from work_dirs; see ``-h``."""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.paper_table import main

if __name__ == '__main__':
    sys.exit(run_main(main))
