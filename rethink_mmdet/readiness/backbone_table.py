"""docs/extending.md's table of every MMDetection backbone from scratch.

One line per entry of :data:`~.scratch_backbones.BACKBONES`: the lines
that change over the R50 scratch row, then what
``check_scratch_ready.py`` reports on the config (the strides of the
features the heads get, the backbone's init, the verdict), the GN groups
the config chooses, and two measured columns, the model's parameters and
the GFLOPs of backbone + neck on one 1333 x 800 image (mmengine's
``get_model_complexity_info``; the heads are the same in every line).
``tools/misc/extending_table.py`` writes it between the markers;
``tests/test_readiness/test_extending_table.py`` checks every column but the
measured two against the checker's report on each backbone's tiny variant,
whose strides, init and verdict are those of the full size.
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from rethink_mmdet.models.layers import is_group_norm
from rethink_mmdet.readiness.backbone_catalogue import (
    BACKBONES,
    ScratchBackbone,
    full_config,
    tiny_config,
)
from rethink_mmdet.readiness.scratch_readiness import (
    ScratchReadiness,
    check_scratch_readiness,
)
from rethink_mmdet.readiness.train_step_probe import quiet_mmengine_logger

BEGIN, END = '<!-- backbones:begin -->', '<!-- backbones:end -->'
COLUMNS = ('backbone', 'model', 'lines over the R50 row', 'strides',
           'GN groups', 'init', 'checker', 'params',
           'GFLOPs 1333x800 (backbone + neck)')
#: The columns a test checks; the last two are measured by the script.
CHECKED = len(COLUMNS) - 2
#: The image the measured columns are counted on (width, height).
MEASURE_SIZE = (1333, 800)


def _norm(norm: Optional[dict], default: str) -> str:
    if not norm:
        return default
    kind = norm.get('type')
    return str(norm.get('num_groups')) if is_group_norm(kind) else {
        'AnySyncBN': 'SyncBN', 'LN': 'LN'}.get(kind, kind)


def gn_groups(cfg: Config, result: ScratchReadiness) -> str:
    """The config's norm choice: the backbone's and the neck's GN groups
    (or the norm used instead), once when they agree."""
    counts = next(p.norm_counts for p in result.parts
                  if p.name == 'backbone')
    backbone = _norm(cfg.model.backbone.get('norm_cfg'),
                     'LN' if 'LayerNorm' in counts else '?')
    neck = _norm(cfg.model.neck.get('norm_cfg'), 'none')
    return backbone if backbone == neck else (
        f'{backbone} backbone, {neck} neck and heads')


def init_policy(result: ScratchReadiness) -> str:
    """``ScratchInit``, or the backbone's own init (a class whose
    ``init_weights`` refuses or ignores ``ScratchInit``)."""
    init = result.inits['backbone']
    if 'backbone' in result.own_init:
        return (f"own ({result.own_init['backbone']}.init_weights, refuses "
                'ScratchInit)')
    if 'ignores init_cfg' in init:
        owner = init.split("'s own")[0]
        return f'own ({owner}.init_weights, ignores init_cfg)'
    return 'ScratchInit' if init.startswith('ScratchInit') else init


def checked_cells(entry: ScratchBackbone, cfg: Config,
                  result: ScratchReadiness) -> List[str]:
    """The columns a test checks, from the config and the checker's
    report on it (or on its tiny variant)."""
    link = (f'[{entry.code_lines}](../configs/{entry.config})'
            if entry.config else
            f'{entry.code_lines} ([below](#{_anchor(entry)}))')
    if not result.claims_scratch:
        raise ValueError(f'{entry.name}: the config does not claim scratch')
    verdict = 'ready' if result.ready else (
        f'NOT ready ({len(result.problems())} problems)')
    return [f'`{entry.name}`', entry.model, link,
            result.strides.split(' (')[0], gn_groups(cfg, result),
            init_policy(result), verdict]


def _anchor(entry: ScratchBackbone) -> str:
    return 'backbone-' + entry.name.lower().replace('_', '-')


def measure(cfg: Config) -> Tuple[str, str]:
    """The model's parameters and backbone + neck GFLOPs at
    :data:`MEASURE_SIZE`, padded as the data preprocessor pads it (HRNet's
    fusion needs sides divisible by 32), as table cells."""
    from mmdet.registry import MODELS
    from mmengine.analysis import get_model_complexity_info
    model = MODELS.build(cfg.model)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    divisor = cfg.model.data_preprocessor.get('pad_size_divisor', 1)
    width, height = (-(-side // divisor) * divisor for side in MEASURE_SIZE)
    # The counter warns of every operator it does not count (norms'
    # arithmetic, mmcv's ops).
    with torch.no_grad(), quiet_mmengine_logger():
        flops = get_model_complexity_info(
            _FeatureExtractor(model), inputs=(torch.zeros(
                1, 3, height, width), ), show_table=False,
            show_arch=False)['flops']
    return f'{params / 1e6:.1f}M', f'{flops / 1e9:.1f}'


class _FeatureExtractor(nn.Module):
    """A detector's backbone and neck, as one module to count."""

    def __init__(self, detector):
        super().__init__()
        self.detector = detector

    def forward(self, images):
        return self.detector.extract_feat(images)


def checked(tiny: bool) -> Iterator[Tuple[ScratchBackbone, Config,
                                           ScratchReadiness]]:
    """Each backbone that can feed the FPN, its full-size config and the
    checker's report on it, or on its tiny variant (``tiny``), held to
    scratch whatever its init."""
    for entry in BACKBONES:
        if entry.cannot:
            continue
        full = full_config(entry)
        cfg = tiny_config(entry, full) if tiny else full
        yield entry, full, check_scratch_readiness(
            cfg, f'{entry.model} over the R50 scratch row', scratch=True)


def table(rows: Sequence[Sequence[str]],
          cannot: Sequence[ScratchBackbone]) -> str:
    """The Markdown table, then one line per backbone that cannot feed a
    Mask R-CNN FPN."""
    lines = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    lines += [''] + [f'- `{e.name}` ({e.model}): cannot: {e.cannot}.'
                     for e in cannot]
    return '\n'.join(lines)


def snippets(entries: Sequence[ScratchBackbone]) -> str:
    """The lines of each entry without an example config, to copy."""
    parts = []
    for e in entries:
        if e.config or e.cannot:
            continue
        body = e.text.split('\n', 1)[1]
        parts.append(
            f'<a id="{_anchor(e)}"></a>**{e.model}** (`{e.name}`): '
            f'{e.why}.\n\n```python\n_base_ = \'../schedule-study/'
            "mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'\n"
            f'{body}```')
    return '\n\n'.join(parts)


def read_rows(doc: str) -> Dict[str, List[str]]:
    """The table's rows in ``doc``, by backbone cell."""
    begin, end = doc.find(BEGIN), doc.find(END)
    if begin < 0 or end < begin:
        raise ValueError(f'no {BEGIN} ... {END} markers')
    rows = {}
    for line in doc[begin:end].splitlines()[3:]:
        if line.startswith('| '):
            cells = [c.strip() for c in line.strip('|').split(' | ')]
            rows[cells[0]] = cells
    return rows


def with_section(doc: str, section: str) -> str:
    """``doc`` with the text between the markers replaced."""
    begin, end = doc.find(BEGIN), doc.find(END)
    if begin < 0 or end < begin:
        raise ValueError(f'no {BEGIN} ... {END} markers')
    return doc[:begin + len(BEGIN)] + '\n' + section + '\n' + doc[end:]
