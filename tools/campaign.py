#!/usr/bin/env python
"""The paper's rows as one campaign: plan, submit, status, collect."""
import sys

from rethink_mmdet.cli.campaign import main
from rethink_mmdet.cli.common import run_main

if __name__ == '__main__':
    sys.exit(run_main(main))
