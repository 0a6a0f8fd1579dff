"""The rows of a campaign: the paper's sets of configs, or configs named by
path or glob, each with its schedule and, for a ``-tta`` row, the row
whose final checkpoint it evaluates.

A row is one training (or, for ``-tta``, one evaluation) of one config into
its own work_dir. Rows come from the paper's experiments (``table1``,
``schedules``, ...: one folder of ``configs/`` or several) or from paths;
the study builds its own (one per seed and schedule, with options).
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.runner import UsageError, load_config, parse_cfg_options
from rethink_mmdet.runner.configs import configs_root

#: The paper's sets: name -> (what it reproduces, its config folders).
SETS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    'table1': ('Table 1: R50 and R101 FPN GN, every schedule (each side '
               'at its best)', ('schedule-study', 'table1')),
    'schedules': ('the schedule study: R50/R101 GN and SyncBN, scratch vs '
                  'pre-trained', ('schedule-study', 'table1', 'syncbn')),
    'less-data': ('COCO subsets of 35k, 10k and 1k images', ('less-data',)),
    'voc': ('PASCAL VOC', ('voc',)),
    'keypoints': ('Keypoint R-CNN, scratch vs pre-trained', ('keypoint',)),
    'enhanced': ('enhanced baselines: train aug, Cascade R-CNN, '
                 'test-time aug', ('enhanced',)),
    'large': ('ResNeXt-152 32x8d Cascade from scratch', ('large',)),
    'no-norm': ('Faster R-CNN VGG-16 without normalization', ('no-norm',)),
    'faster-rcnn': ('Faster R-CNN R50-FPN GN', ('faster-rcnn',)),
    'extending': ('other backbones from scratch (docs/extending.md)',
                  ('extending',)),
}
_ALL_FOLDERS = tuple(dict.fromkeys(
    folder for _, folders in SETS.values() for folder in folders))
SETS['all'] = ('every paper row', _ALL_FOLDERS)

_TTA = re.compile(r'-tta(?=_[^_]+$)')


@dataclass(frozen=True)
class Row:
    """One training (or test-time-augmented evaluation) of a campaign.

    Attributes:
        name: Unique in its campaign; its work_dir's name.
        config: The config file (absolute).
        max_iters: Its schedule (0 for an evaluation).
        options: More ``tools/train.py`` arguments (``--cfg-options``...).
        tta_of: For a ``-tta`` row, the row whose final checkpoint it
            evaluates with ``tools/test.py --tta``.
        after: Rows that must be done before this one starts.
    """
    name: str
    config: str
    max_iters: int
    options: Tuple[str, ...] = ()
    tta_of: Optional[str] = None
    after: Tuple[str, ...] = ()

    @property
    def needs(self) -> Tuple[str, ...]:
        """Every row this one waits for."""
        return self.after + ((self.tta_of, ) if self.tta_of else ())

    def to_dict(self) -> dict:
        return dict(name=self.name, config=self.config,
                    max_iters=self.max_iters, options=list(self.options),
                    tta_of=self.tta_of, after=list(self.after))

    @classmethod
    def from_dict(cls, data: dict) -> 'Row':
        return cls(data['name'], data['config'], int(data['max_iters']),
                   tuple(data.get('options', ())), data.get('tta_of'),
                   tuple(data.get('after', ())))


def set_table() -> List[Tuple[str, int, str]]:
    """(name, rows, what) of each paper set."""
    return [(name, len(set_configs(name)), what)
            for name, (what, _) in SETS.items()]


def set_configs(name: str) -> List[str]:
    """The row configs of a paper set, in name order."""
    _, folders = SETS[name]
    return sorted(path for folder in folders for path in glob.glob(
        osp.join(configs_root(), folder, '*.py')))


def _configs_of(item: str) -> List[str]:
    """A set's configs, or the files a path or glob names."""
    if item in SETS:
        return set_configs(item)
    found = sorted(glob.glob(item)) if glob.has_magic(item) else (
        [item] if osp.isfile(item) else [])
    if not found:
        known = ', '.join(SETS)
        raise UsageError(f'{item!r} is neither a set ({known}) nor a config '
                         'file or glob that matches one')
    return [osp.abspath(path) for path in found]


def tta_base(name: str) -> Optional[str]:
    """The row a ``-tta`` row evaluates (its name without ``-tta``)."""
    return _TTA.sub('', name) if _TTA.search(name) else None


def cfg_overrides(options: Sequence[str]) -> Dict[str, object]:
    """The ``--cfg-options`` among ``tools/train.py`` arguments."""
    if '--cfg-options' not in options:
        return {}
    values = []
    for item in options[list(options).index('--cfg-options') + 1:]:
        if item.startswith('--'):
            break
        values.append(item)
    return parse_cfg_options(values)


def schedule_of(config: str, options: Sequence[str] = ()) -> int:
    """The config's ``train_cfg.max_iters`` (after the ``--cfg-options``
    among ``options``)."""
    try:
        cfg = load_config(config, cfg_overrides(options))
    except Exception as error:  # noqa: BLE001  (any config error: one line)
        raise UsageError(f'{config}: cannot be read as a config: '
                         f'{str(error).splitlines()[0]}') from None
    iters = (cfg.get('train_cfg') or {}).get('max_iters')
    if not isinstance(iters, int):
        raise UsageError(f'{config}: train_cfg.max_iters is {iters!r}, '
                         'expected iterations (an iteration-based config)')
    return iters


def rows_from(items: Sequence[str], options: Sequence[str] = (),
              read_schedule=schedule_of) -> List[Row]:
    """The rows of sets, config paths and globs, each config once, with
    ``options`` for every training row.

    Raises:
        UsageError: an unknown set or config, two configs of one name, or
            a ``-tta`` row whose base row is not among them.
    """
    configs = list(dict.fromkeys(
        path for item in items for path in _configs_of(item)))
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f'two configs named {twice[0]}: rows are named by '
                         'their config, rename one')
    rows = []
    for config, name in zip(configs, names):
        base = tta_base(name)
        if base is None:
            rows.append(Row(name, config, read_schedule(config, options),
                            tuple(options)))
        elif base not in names:
            raise UsageError(f'{name} evaluates the final checkpoint of '
                             f'{base}: add that row too')
        else:
            rows.append(Row(name, config, 0, tuple(options), tta_of=base))
    return rows
