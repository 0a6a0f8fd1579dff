"""What keeps a built model, or one of its parts, from training from scratch.

One implementation serves both callers: the build-time guard of
:class:`~rethink_mmdet.models.init_policies.ScratchInit` (one component,
when its weights are initialized) and ``tools/misc/check_scratch_ready.py``
(every part of a config's model, before any GPU time is spent).

What docs/recipe.md asks of a scratch model, and what breaks it:

- every parameter trains (``frozen_stages=-1``, ``requires_grad=True``);
- BN/SyncBN statistics are updated: a ``_BatchNorm`` that stays in eval
  mode after ``model.train()`` (mmdet's ``norm_eval=True``) keeps its
  random-init statistics for the whole run;
- no FrozenBN (fixed affine and statistics: a ``FrozenBatchNorm`` class,
  or BN with ``requires_grad=False`` kept in eval mode);
- no plain BatchNorm: with 2 images per GPU its per-GPU statistics do not
  train from random init (claim 1), GN or SyncBN do;
- a ``norm_cfg`` that the module ignores (it builds convs but no norm
  layer, as MMDetection's ``HRFPN`` does) leaves that part unnormalized.
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

#: The norm layers mmengine's ``norm_decay_mult`` applies to, and the ones
#: counted in a part's report.
NORM_TYPES = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)
#: torchvision's ``FrozenBatchNorm2d``, detectron2's ``FrozenBatchNorm2d``,
#: and user classes named like them: not ``_BatchNorm`` subclasses.
_FROZEN_BN_NAME = re.compile(r'Frozen(BatchNorm|BN)')


def is_frozen_bn_class(module: nn.Module) -> bool:
    return bool(_FROZEN_BN_NAME.search(type(module).__name__))


def is_sync_bn(module: nn.Module) -> bool:
    """torch's/mmcv's ``SyncBatchNorm``, our ``AnySyncBatchNorm``, and
    other synchronized BN classes (by name: they share no base class)."""
    return isinstance(module, nn.SyncBatchNorm) or 'Sync' in type(
        module).__name__


@dataclass
class PartReport:
    """The scratch-relevant facts of one model part.

    Args:
        name: The part's name, e.g. ``'backbone'`` or
            ``'roi_head.bbox_head.1'``.
        num_params: Its parameter count.
        norm_counts: Norm layers by class name.
        frozen: Parameters with ``requires_grad=False`` (outside FrozenBN).
        bn_eval: BN layers (module names) still in eval mode after
            ``train()``, outside FrozenBN.
        frozen_bn: FrozenBN layers: a FrozenBatchNorm class, or BN in eval
            mode after ``train()`` whose affine parameters do not train.
        plain_bn: Non-synchronized BatchNorm layers, outside FrozenBN.
        ignored_norm_cfg: The ``norm_cfg`` type of a module that builds
            convolutions but no norm layer, by module name.
    """
    name: str
    num_params: int = 0
    norm_counts: Dict[str, int] = field(default_factory=dict)
    frozen: List[str] = field(default_factory=list)
    bn_eval: List[str] = field(default_factory=list)
    frozen_bn: List[str] = field(default_factory=list)
    plain_bn: List[str] = field(default_factory=list)
    ignored_norm_cfg: Dict[str, str] = field(default_factory=dict)

    def problems(self) -> List[str]:
        """One line per problem: what is wrong, where, and the setting to
        change; empty when the part can train from scratch."""
        lines = []
        if self.frozen:
            lines.append(
                f'{self.name}: {len(self.frozen)} frozen parameters '
                f'({_first(self.frozen)}); a scratch model trains every '
                'parameter: set frozen_stages=-1 and requires_grad=True in '
                'norm_cfg')
        if self.frozen_bn:
            lines.append(
                f'{self.name}: {len(self.frozen_bn)} FrozenBN layers '
                f'({_first(self.frozen_bn)}) keep their random-init affine '
                'and statistics: use GN or SyncBN with requires_grad=True, '
                'norm_eval=False, frozen_stages=-1')
        if self.bn_eval:
            lines.append(
                f'{self.name}: {len(self.bn_eval)} BatchNorm/SyncBN layers '
                f'({_first(self.bn_eval)}) stay in eval mode during '
                'training, their statistics frozen at random init: set '
                'norm_eval=False')
        if self.plain_bn:
            lines.append(
                f'{self.name}: {len(self.plain_bn)} BatchNorm layers '
                f'({_first(self.plain_bn)}) normalize over one GPU\'s 2 '
                'images, which does not train from scratch: use '
                "norm_cfg=dict(type='GN', num_groups=32) or "
                "dict(type='AnySyncBN')")
        for module, norm in self.ignored_norm_cfg.items():
            lines.append(
                f'{self.name}: {module} has norm_cfg type={norm!r} but '
                'builds no norm layer (it ignores norm_cfg), so its convs '
                'train unnormalized: use a module that honours norm_cfg '
                '(e.g. HRFPNWithNorm for HRFPN) or drop norm_cfg')
        return lines


def _first(names: List[str], shown: int = 3) -> str:
    return ', '.join(names[:shown]) + (', ...' if len(names) > shown else '')


def _modes_in_training(module: nn.Module) -> Dict[str, bool]:
    """``training`` of every submodule after ``module.train()``, which is
    where mmdet backbones apply ``norm_eval`` and ``frozen_stages``; the
    modes are restored afterwards."""
    saved = [(m, m.training) for m in module.modules()]
    try:
        module.train()
        return {name: m.training for name, m in module.named_modules()}
    finally:
        for m, mode in saved:
            m.training = mode


def _affine_trains(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters(recurse=False))


def inspect_part(module: nn.Module, name: str) -> PartReport:
    """The facts of :class:`PartReport` for a built module (no forward)."""
    report = PartReport(name, sum(p.numel() for p in module.parameters()))
    modes = _modes_in_training(module)
    counts = Counter()
    frozen_bn_params = set()
    for path, m in module.named_modules():
        label = path or type(module).__name__
        if isinstance(m, NORM_TYPES) or is_frozen_bn_class(m):
            counts[type(m).__name__] += 1
        if is_frozen_bn_class(m) or (isinstance(m, _BatchNorm)
                                     and not modes[path]
                                     and not _affine_trains(m)):
            report.frozen_bn.append(label)
            frozen_bn_params.update(
                f'{path}.{n}' if path else n
                for n, _ in m.named_parameters(recurse=False))
        elif isinstance(m, _BatchNorm):
            if not modes[path]:
                report.bn_eval.append(label)
            if not is_sync_bn(m):
                report.plain_bn.append(label)
        norm_cfg = getattr(m, 'norm_cfg', None)
        if isinstance(norm_cfg, dict) and norm_cfg.get('type') and any(
                isinstance(c, nn.modules.conv._ConvNd)
                for c in m.modules()) and not any(
                    isinstance(c, NORM_TYPES) or is_frozen_bn_class(c)
                    for c in m.modules()):
            report.ignored_norm_cfg[label] = norm_cfg['type']
    report.norm_counts = dict(sorted(counts.items()))
    report.frozen = [n for n, p in module.named_parameters()
                     if not p.requires_grad and n not in frozen_bn_params]
    # A module that ignores norm_cfg inside one that ignores it too: name
    # the innermost only.
    for label in list(report.ignored_norm_cfg):
        if any(other.startswith(label + '.')
               for other in report.ignored_norm_cfg):
            del report.ignored_norm_cfg[label]
    return report


def scratch_problems(module: nn.Module, name: str = 'model') -> List[str]:
    """Lists what would keep ``module`` from training from random init.

    Args:
        module: A built model or component.
        name: Its name in messages, e.g. ``'backbone'``.

    Returns:
        One line per problem; empty when the module can train from scratch.
    """
    return inspect_part(module, name).problems()


def model_parts(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """A detector's parts as the paper discusses them: backbone, neck,
    rpn_head, and each head of the RoI head (each cascade stage apart);
    any other child with parameters as itself."""
    parts = []
    for name, child in model.named_children():
        if not any(True for _ in child.parameters()):
            continue
        if name != 'roi_head':
            parts.append((name, child))
            continue
        for sub, head in child.named_children():
            if not any(True for _ in head.parameters()):
                continue
            if isinstance(head, nn.ModuleList):
                parts.extend((f'{name}.{sub}.{i}', stage)
                             for i, stage in enumerate(head))
            else:
                parts.append((f'{name}.{sub}', head))
    return parts


class ProbeForward(NamedTuple):
    """What :func:`probe_forward` saw.

    Args:
        text: The output shapes in words (empty when the forward failed).
        problems: The forward's error with the module it happened in, and
            GroupNorm layers whose groups hold one value per image
            (``num_channels / num_groups x H x W == 1``), which makes their
            output the constant bias.
        sizes: Height and width of each output level.
        backbone_sizes: The same for the backbone's outputs (a detector's
            backbone; empty otherwise).
    """
    text: str
    problems: List[str]
    sizes: List[Tuple[int, int]] = []
    backbone_sizes: List[Tuple[int, int]] = []


def _sizes(feats) -> List[Tuple[int, int]]:
    feats = feats if isinstance(feats, (list, tuple)) else [feats]
    return [tuple(f.shape[-2:]) for f in feats if torch.is_tensor(f)]


def probe_forward(model: nn.Module, size: int = 128,
                  batch: int = 2) -> ProbeForward:
    """Runs the feature extractor (backbone, neck) once in training mode.

    Args:
        model: A built detector (``extract_feat``) or backbone.
        size: Side of the random input images, in pixels.
        batch: Images in the batch (2: the paper's per-GPU batch).

    Returns:
        The shapes and problems, :class:`ProbeForward`.
    """
    # Modules whose forward has started and not returned: after an error,
    # the last one is where it happened.
    seen, open_calls = {}, []

    def enter(module, args):
        open_calls.append(module)

    def leave(module, args, output):
        open_calls.pop()
        if isinstance(module, nn.GroupNorm):
            shape = tuple(args[0].shape)
            values = module.num_channels // module.num_groups
            for dim in shape[2:]:
                values *= dim
            if values == 1:
                seen.setdefault(id(module), shape)

    backbone_out = []
    names = {id(m): n for n, m in model.named_modules()}
    handles = [m.register_forward_pre_hook(enter) for m in model.modules()]
    handles += [m.register_forward_hook(leave) for m in model.modules()]
    if isinstance(getattr(model, 'backbone', None), nn.Module):
        handles.append(model.backbone.register_forward_hook(
            lambda module, args, output: backbone_out.append(
                _sizes(output))))
    extract = getattr(model, 'extract_feat', model)
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.train()
        with torch.no_grad():
            feats = extract(torch.randn(batch, 3, size, size))
    except Exception as e:  # noqa: BLE001  (any failure is the finding)
        where = names.get(id(open_calls[-1]), '?') if open_calls else '?'
        return ProbeForward('', [
            f'forward: backbone/neck on a {batch}x3x{size}x{size} batch '
            f'fails in {where or "the model"}: {type(e).__name__}: '
            f'{str(e).splitlines()[0]}'])
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            m.training = mode
    problems = []
    by_part = {}
    for module_id, shape in seen.items():
        name = names[module_id]
        by_part.setdefault(name.split('.')[0], []).append((name, shape))
    for part, layers in by_part.items():
        name, shape = layers[0]
        module = model.get_submodule(name)
        problems.append(
            f'{part}: {len(layers)} GroupNorm layers ({name}, ...) normalize '
            f'one value per group (input {list(shape)}, '
            f'{module.num_groups} groups of {module.num_channels} channels):'
            ' their output is a constant; use fewer groups or SyncBN there')
    feats = feats if isinstance(feats, (list, tuple)) else [feats]
    shapes = ', '.join('x'.join(map(str, f.shape[1:])) for f in feats)
    return ProbeForward(
        f'backbone/neck on a {batch}x3x{size}x{size} batch: {shapes}',
        problems, _sizes(feats), backbone_out[0] if backbone_out else [])
