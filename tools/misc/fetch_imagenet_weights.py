#!/usr/bin/env python
"""Downloads the ImageNet checkpoints of the pre-trained rows (or, with
--check, verifies a folder of them offline).

    python tools/misc/fetch_imagenet_weights.py DIR          # online
    python tools/misc/fetch_imagenet_weights.py DIR --check  # offline node
    RETHINK_IMAGENET_DIR=DIR python tools/train.py CONFIG
"""
import sys

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.cli.fetch_imagenet_weights import main

if __name__ == '__main__':
    sys.exit(run_main(main))
