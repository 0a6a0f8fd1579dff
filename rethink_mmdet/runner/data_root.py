"""``--data-root DIR``: point a row config at another COCO folder.

mmengine substitutes a config's ``data_root`` variable into every dataset
and evaluator when the file is parsed, so ``--cfg-options data_root=DIR``
changes the variable and nothing that uses it. This replaces the value the
file resolved to (``data/coco/`` for the COCO rows) wherever it was used: a
dataset's ``data_root`` equal to it, and any ``ann_file`` starting with it
(the evaluators' absolute ones). Without the option, the environment
variable ``RETHINK_COCO_ROOT`` moves the COCO rows (``data_root`` =
``data/coco/``) only, for launch scripts that cannot add options; the
synthetic-data configs stay where they are.
"""
import os
from typing import Optional

from mmengine.config import Config

#: Environment variable: where COCO is, when ``--data-root`` is not given.
COCO_ROOT_ENV = 'RETHINK_COCO_ROOT'
#: The COCO rows' ``data_root`` (MMDetection's layout).
COCO_DATA_ROOT = 'data/coco/'


def _replace(node, old: str, new: str) -> int:
    """Replaces ``old`` in place under ``node``; returns how many."""
    count = 0
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for key, value in list(items):
        if isinstance(value, (dict, list)):
            count += _replace(value, old, new)
        elif isinstance(value, str):
            if key == 'data_root' and value.rstrip('/') == old.rstrip('/'):
                node[key] = new
                count += 1
            elif key == 'ann_file' and value.startswith(old):
                node[key] = new + value[len(old):]
                count += 1
    return count


def apply_data_root(cfg: Config, data_root: Optional[str]) -> None:
    """Moves every use of the config's ``data_root`` to ``data_root``
    (or, for a COCO row, to ``$RETHINK_COCO_ROOT``; nothing when neither
    is set).

    Raises:
        ValueError: when the config has no top-level ``data_root`` or
            nothing uses it.
    """
    old = cfg.get('data_root')
    if not data_root and old == COCO_DATA_ROOT:
        data_root = os.environ.get(COCO_ROOT_ENV)
    if not data_root:
        return
    if not isinstance(old, str) or not old:
        raise ValueError('--data-root needs a config with a data_root '
                         'variable (as the dataset bases have)')
    new = data_root.rstrip('/') + '/'
    old = old if old.endswith('/') else old + '/'
    count = sum(_replace(cfg[key], old, new) for key in list(cfg.keys())
                if key != 'data_root' and isinstance(cfg[key], (dict, list)))
    if not count:
        raise ValueError(f'--data-root: nothing in the config uses its '
                         f'data_root {old!r}')
    cfg.data_root = new
