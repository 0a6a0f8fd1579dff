"""Our rows beside the MMDetection model zoo, read from the installed mmdet.

The zoo's entries come from the metafiles the mmdet wheel ships under
``mmdet/.mim/configs/*/metafile.yml`` (nothing is copied into this repo).
A row and a zoo entry are compared by what their config names say:
detector, backbone, normalization, init and schedule length.
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

ITERS_PER_X = 90000
EPOCHS_PER_X = 12


@dataclass(frozen=True)
class Row:
    """What a config name says about the model it trains."""
    name: str
    algo: str
    backbone: str
    components: tuple  # neck, norm and other fields, e.g. ('fpn', 'gn-all')
    init: str
    times: Optional[float]  # schedule length in x (1x = 90k its, 12 epochs)
    data: str


def parse_name(name: str, epochs: Optional[int] = None) -> Row:
    """Reads our and MMDetection's config names alike.

    Args:
        name: Config stem, e.g. ``mask-rcnn_r50-scratch_fpn_gn-all_6x_coco``.
        epochs: The zoo's ``Metadata.Epochs``, used when the name has no
            ``Nx``.
    """
    fields = name.split('_')
    backbone = re.sub(r'-(scratch|pretrained|caffe|pytorch)$', '',
                      fields[1]) if len(fields) > 1 else ''
    times = None
    match = re.search(r'(?:^|[_-])(\d+)x(?:[_-]|$)', name)
    if match:
        times = float(match.group(1))
    elif re.search(r'_(\d+)k_', name):
        times = int(re.search(r'_(\d+)k_', name).group(1)) * 1000 \
            / ITERS_PER_X
    elif epochs:
        times = epochs / EPOCHS_PER_X
    return Row(name=name, algo=fields[0], backbone=backbone,
               components=tuple(fields[2:-2]),
               init='scratch' if 'scratch' in name else 'pretrained',
               times=times, data=fields[-1])


def zoo_entries(mmdet_root: Optional[str] = None) -> List[dict]:
    """Every model of the installed mmdet's metafiles, with its AP."""
    import yaml
    if mmdet_root is None:
        import mmdet
        mmdet_root = osp.dirname(mmdet.__file__)
    entries = []
    pattern = osp.join(mmdet_root, '.mim', 'configs', '*', 'metafile.yml')
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            metafile = yaml.safe_load(f)
        # A few metafiles hold a bare list of models.
        models = (metafile.get('Models') if isinstance(metafile, dict)
                  else metafile) or []
        for model in models:
            metrics = {}
            for result in model.get('Results') or []:
                if result.get('Dataset') == 'COCO':
                    metrics.update(result.get('Metrics') or {})
            config = model.get('Config', '')
            stem = osp.splitext(osp.basename(config))[0]
            epochs = (model.get('Metadata') or {}).get('Epochs')
            entries.append(dict(config=config, row=parse_name(stem, epochs),
                                box=metrics.get('box AP'),
                                mask=metrics.get('mask AP')))
    return entries


def closest(row: Row, entries: List[dict]) -> Optional[dict]:
    """The COCO zoo entry for the same detector, backbone, components (neck,
    norm) and init with the nearest schedule (``match`` says whether it is
    exact). Rows trained on other data have none."""
    def key(r):
        return r.algo, r.backbone, r.components, r.init, r.data

    same = [e for e in entries if key(e['row']) == key(row) and e['box']]
    if not same:
        return None
    best = min(same, key=lambda e: abs((e['row'].times or 0) -
                                       (row.times or 0)))
    exact = best['row'].times == row.times
    return dict(best, match='exact' if exact else
                f"nearest schedule ({best['row'].times:g}x)")


def compare(names: List[str], references: Dict[str, dict],
            measured: Dict[str, dict],
            entries: Optional[List[dict]] = None) -> List[List[str]]:
    """Rows: ours (reference, measured) beside the closest zoo entry."""
    entries = zoo_entries() if entries is None else entries
    rows = []
    for name in names:
        zoo = closest(parse_name(name), entries)
        ref = references.get(name, {})
        got = measured.get(name, {})
        rows.append([
            name, _pair(ref.get('box AP'), ref.get('mask AP')),
            _pair(got.get('box'), got.get('mask')),
            zoo['row'].name if zoo else '-',
            _pair(zoo['box'], zoo['mask']) if zoo else '-',
            zoo['match'] if zoo else 'no zoo entry'])
    return rows


def _pair(box, mask) -> str:
    if box is None and mask is None:
        return '-'
    return '/'.join('-' if v is None else f'{v:.1f}' for v in (box, mask))


HEADER = ['our config', 'reference box/mask', 'measured box/mask',
          'MMDetection zoo config', 'zoo box/mask', 'match']
