"""Is a config ready to train from scratch? (``check_scratch_ready.py``,
which prints :class:`ScratchReadiness` with ``format_report``)

Builds the config's model on the CPU, without initializing it (no
checkpoint is read or downloaded), and reports per part (backbone, neck,
rpn_head, each RoI head) what :mod:`rethink_mmdet.models.scratch_check`
finds, the same facts :class:`~rethink_mmdet.models.ScratchInit`'s guard
refuses at build time, plus what only the whole config shows: pretrained
checkpoint references (any ``init_cfg`` with a ``checkpoint``, a
``pretrained=``, ``load_from``), weight decay on norm parameters (from the
optimizer's real parameter groups, so ``paramwise_cfg.custom_keys`` and
``norm_decay_mult`` count as mmengine applies them) and the LR schedule's
drop points. It also runs backbone and neck once on a random
2 x 3 x 128 x 128 batch (2 images per GPU, as in training) in training mode:
a forward that fails, or a GroupNorm whose groups hold a single value (a
pooled 1x1 map with one channel per group, as ResNeSt's split attention
gets with GN(32): its output is a constant), is a problem no build finds.
The strides of the features that forward returns (input side / feature
side) must be those every anchor generator and RoI extractor is told,
level for level
(:mod:`~rethink_mmdet.readiness.stride_check`): a backbone's ``out_indices``
from stride 8 under the base's 4-64 anchors raises nothing and ruins the
run. Last, it does what ``Runner.train`` does first
(:mod:`rethink_mmdet.readiness.train_step_probe`): ``init_weights()``,
then one training step (forward, loss, backward, optimizer step) on a
generated batch; an exception there is a problem naming the module, and
"ready" needs that step to pass. Parameters that ``init_weights()``
leaves as built (:mod:`~rethink_mmdet.readiness.init_coverage`) are a
problem in a part that claims ``ScratchInit`` (its class's
``init_weights`` ignores ``init_cfg``). Parts that initialize themselves
and refuse ``ScratchInit`` (mmdet's Swin and PVT) are named: their own
random init applies (docs/extending.md).

A config claims scratch when its name says ``-scratch`` or its backbone
uses the ``scratch`` init policy (``ScratchInit``); every finding is then a
problem. A pre-trained config gets the same report, without a verdict
against it.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import torch.nn as nn
from mmengine.config import Config, ConfigDict

from rethink_mmdet.models.init_policies import ScratchReadinessError
from rethink_mmdet.models.scratch_check import (
    NORM_TYPES,
    PartReport,
    inspect_part,
    model_parts,
    probe_forward,
)
from rethink_mmdet.readiness.init_coverage import (
    ignores_init_cfg,
    untouched_by_init,
    untouched_lines,
)
from rethink_mmdet.readiness.schedule_check import describe_schedule
from rethink_mmdet.readiness.stride_check import (
    describe_strides,
    stride_consumers,
    stride_problems,
)
from rethink_mmdet.readiness.train_step_probe import (
    drop_checkpoint_inits,
    init_like_runner,
    probe_train_step,
    quiet_mmengine_logger,
    refuses_scratch_init,
)

#: Side of the probe forward's and training step's square images, pixels.
PROBE_SIZE = 128


@dataclass
class ScratchReadiness:
    """What :func:`check_scratch_readiness` found in one config.

    Args:
        config: The config's path (or name).
        claims_scratch: Whether it claims to train from scratch.
        claim: Why (or why not), in words.
        parts: One report per model part.
        inits: Each part's init, ancestors' init_cfg first.
        norm_decay: Per part, its norm parameters that get weight decay
            (name: decay).
        pretrained: Checkpoint references, ``'key: checkpoint'``.
        optimizer: The optimizer in one line (empty without one).
        schedule: The LR schedule, one line per scheduler.
        schedule_problems: Schedulers that cannot run as configured.
        forward: What the backbone and neck returned on a probe batch.
        forward_problems: What went wrong in that forward.
        strides: The strides of the features the heads get, measured in
            that forward, and whether every head reads them as such.
        stride_problems: Heads whose strides or level counts are not the
            measured ones (:mod:`~rethink_mmdet.readiness.stride_check`).
        init_notes: Parameters that a part's own init leaves as built.
        init_problems: Parameters of parts claiming ``ScratchInit`` that
            ``init_weights()`` left as built
            (:mod:`~rethink_mmdet.readiness.init_coverage`).
        own_init: Parts that initialize themselves and refuse
            ``ScratchInit`` (Swin, PVT), by class name: their own random
            init applies.
        train_step: What passed of ``init_weights()`` and one training
            step, in words; empty when they did not run or failed.
        train_step_problems: What failed there.
        train_step_skipped: Why the training step did not run.
    """
    config: str
    claims_scratch: bool
    claim: str
    parts: List[PartReport]
    inits: Dict[str, str]
    norm_decay: Dict[str, Dict[str, float]]
    pretrained: List[str]
    optimizer: str = ''
    schedule: List[str] = field(default_factory=list)
    schedule_problems: List[str] = field(default_factory=list)
    forward: str = ''
    forward_problems: List[str] = field(default_factory=list)
    strides: str = ''
    stride_problems: List[str] = field(default_factory=list)
    init_notes: List[str] = field(default_factory=list)
    init_problems: List[str] = field(default_factory=list)
    own_init: Dict[str, str] = field(default_factory=dict)
    train_step: str = ''
    train_step_problems: List[str] = field(default_factory=list)
    train_step_skipped: str = ''

    def problems(self) -> List[str]:
        """Everything that keeps the model from training from scratch,
        one line each (whether or not the config claims scratch)."""
        lines = [line for part in self.parts for line in part.problems()]
        for part, decayed in self.norm_decay.items():
            if decayed:
                names = list(decayed)
                lines.append(
                    f'{part}: weight decay {max(decayed.values()):g} on '
                    f'{len(names)} norm parameters ({", ".join(names[:2])}'
                    f'{", ..." if len(names) > 2 else ""}): set '
                    'optim_wrapper.paramwise_cfg.norm_decay_mult=0 (and no '
                    'custom_keys decay_mult on norm layers)')
        lines.extend(f'pretrained: {ref}: a scratch model loads no '
                     'checkpoint' for ref in self.pretrained)
        lines.extend(self.schedule_problems)
        lines.extend(self.forward_problems)
        lines.extend(self.stride_problems)
        lines.extend(self.init_problems)
        lines.extend(self.train_step_problems)
        return lines

    @property
    def ready(self) -> bool:
        """Ready only when nothing is wrong and a training step passed."""
        return not self.claims_scratch or (not self.problems()
                                           and bool(self.train_step))


def check_scratch_readiness(cfg: Config, name: Optional[str] = None,
                            scratch: bool = False) -> ScratchReadiness:
    """Builds ``cfg.model`` on the CPU and checks it and the config.

    Args:
        cfg: A detector config (with its ``custom_imports`` applied).
        name: Its path, for the report and the ``-scratch`` claim;
            defaults to ``cfg.filename``.
        scratch: Hold the config to scratch whatever its name and
            backbone init say (a config named otherwise, or one whose
            backbone init was overridden by mistake).

    Returns:
        The findings; ``.problems()`` and ``.ready`` give the verdict.
    """
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    name = name or cfg.filename or '<config>'
    model = MODELS.build(cfg.model)
    parts = model_parts(model)
    claims, claim = _claim(cfg, name)
    if scratch and not claims:
        claims, claim = True, 'yes: asked for on the command line (--scratch)'
    optim_wrapper, optimizer, decay = _norm_weight_decay(model, parts, cfg)
    schedule, schedule_problems = describe_schedule(cfg)
    reports = [inspect_part(module, part) for part, module in parts]
    inits = {part: _describe_init(model, part) for part, _ in parts}
    scratch_init = {part for part in inits if 'ScratchInit' in inits[part]}
    own_init = {part: type(module).__name__ for part, module in parts
                if 'ScratchInit' not in inits[part]
                and refuses_scratch_init(module)}
    for part, cls in own_init.items():
        inits[part] = f"{cls}'s own random init (refuses ScratchInit)"
    ignoring = {part: type(module).__name__ for part, module in parts
                if part not in own_init and ignores_init_cfg(module)}
    for part, cls in ignoring.items():
        inits[part] = f"{cls}'s own init (its init_weights ignores init_cfg)"
    # What Runner.train does first, minus reading checkpoints (reported
    # above): init_weights(), then (after the probe forward) one step.
    # Parameters a checkpoint writes are not expected to change in init.
    loaded = [('' if n == 'model' else n)
              for n in drop_checkpoint_inits(model)]
    skipped, step, step_problems, untouched = '', '', [], []
    try:
        untouched = untouched_by_init(
            model, lambda: step_problems.extend(init_like_runner(model)),
            loaded)
    except ScratchReadinessError:
        skipped = 'ScratchInit refuses to initialize (the problems above)'
    if step_problems:
        skipped, untouched = 'init_weights() fails', []
    init_problems, init_notes = untouched_lines(parts, scratch_init,
                                               untouched)
    init_problems += [
        f'init: {part}: {cls}.init_weights ignores init_cfg, so ScratchInit '
        '(and its guard) never runs on it: call super().init_weights() in '
        'it (that runs init_cfg), or set init_cfg=None to say that its own '
        'init applies' for part, cls in ignoring.items()
        if part in scratch_init and not any(
            p.startswith(f'init: {part}: ') for p in init_problems)]
    probe = probe_forward(model, PROBE_SIZE)
    consumers = stride_consumers(model)
    strides = describe_strides(probe.sizes, PROBE_SIZE, consumers)
    strides_wrong = stride_problems(
        probe.sizes, PROBE_SIZE, consumers, probe.backbone_sizes,
        getattr(model, 'neck', None))
    if probe.problems and not skipped:
        skipped = 'the forward above fails'
    if not skipped:
        step, step_problems = probe_train_step(model, optim_wrapper,
                                               PROBE_SIZE)
    return ScratchReadiness(
        config=name, claims_scratch=claims, claim=claim, parts=reports,
        inits=inits, norm_decay=decay, pretrained=list(_pretrained_refs(cfg)),
        optimizer=optimizer, schedule=schedule,
        schedule_problems=schedule_problems, forward=probe.text,
        forward_problems=probe.problems, strides=strides,
        stride_problems=strides_wrong, init_notes=init_notes,
        init_problems=init_problems, own_init=own_init,
        train_step=step, train_step_problems=step_problems,
        train_step_skipped=skipped)


def _init_types(init_cfg) -> List[dict]:
    if not init_cfg:
        return []
    return list(init_cfg) if isinstance(init_cfg, (list, tuple)) else [
        init_cfg]


def _claim(cfg: Config, name: str) -> Tuple[bool, str]:
    reasons = []
    if '-scratch' in osp.basename(name):
        reasons.append("the name says '-scratch'")
    backbone_init = _init_types(cfg.model.get('backbone', {}).get('init_cfg'))
    if any(c.get('type') == 'ScratchInit' for c in backbone_init):
        reasons.append('the backbone uses the scratch init policy '
                       '(ScratchInit)')
    if reasons:
        return True, 'yes: ' + ' and '.join(reasons)
    return False, ("no (no '-scratch' in the name, backbone init_cfg "
                   f"{[c.get('type') for c in backbone_init] or None})")


def _describe_init(model: nn.Module, path: str) -> str:
    """The init_cfg types applied to a part: its ancestors' (mmengine runs
    a parent's init_cfg over the whole subtree), then its own."""
    steps, module = [], model
    names = path.split('.')
    for depth, attr in enumerate(names):
        module = module[int(attr)] if attr.isdigit() else getattr(
            module, attr)
        inits = []
        for init in _init_types(getattr(module, 'init_cfg', None)):
            text = init.get('type', '?')
            if init.get('checkpoint'):
                text += f"({init['checkpoint']})"
            if text not in inits:
                inits.append(text)
        if inits:
            where = ('' if depth == len(names) - 1 else
                     f" [{'.'.join(names[:depth + 1])}]")
            steps.append(','.join(inits) + where)
    return ' + '.join(steps) or "the module's own defaults"


def _pretrained_refs(cfg: Config) -> Iterator[str]:
    def walk(node, key):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == 'init_cfg':
                    for init in _init_types(v):
                        if isinstance(init, dict) and init.get('checkpoint'):
                            yield (f"{key}.init_cfg: {init.get('type')} "
                                   f"{init['checkpoint']}")
                elif k == 'pretrained' and isinstance(v, str):
                    yield f'{key}.pretrained: {v}'
                else:
                    yield from walk(v, f'{key}.{k}')
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                yield from walk(item, f'{key}.{i}')

    yield from walk(cfg.model, 'model')
    if cfg.get('load_from'):
        yield f'load_from: {cfg.load_from}'


def _norm_weight_decay(model: nn.Module, parts, cfg: Config):
    """The optimizer wrapper as mmengine builds it from the config (None
    without one), the optimizer in words, and per part the norm parameters
    whose parameter group has a weight decay above 0 (``paramwise_cfg``,
    custom keys, ``norm_decay_mult``)."""
    from mmengine.optim import build_optim_wrapper
    if not cfg.get('optim_wrapper'):
        return None, '', {part: {} for part, _ in parts}
    wrapper_cfg = ConfigDict(cfg.optim_wrapper.copy())
    # The groups do not depend on the wrapper; AmpOptimWrapper needs a GPU.
    wrapper_cfg.type = 'OptimWrapper'
    for key in ('loss_scale', 'dtype', 'use_fsdp'):
        wrapper_cfg.pop(key, None)
    with quiet_mmengine_logger():
        wrapper = build_optim_wrapper(model, wrapper_cfg)
    optimizer = wrapper.optimizer
    decay_of = {id(p): group.get('weight_decay', 0)
                for group in optimizer.param_groups for p in group['params']}
    decay = {}
    for part, module in parts:
        decay[part] = {
            f'{part}.{mname}.{pname}': decay_of[id(p)]
            for mname, m in module.named_modules()
            if isinstance(m, NORM_TYPES)
            for pname, p in m.named_parameters(recurse=False)
            if decay_of.get(id(p), 0) > 0}
    defaults = optimizer.defaults
    text = type(optimizer).__name__ + ' ' + ' '.join(
        f'{k}={defaults[k]:g}' for k in ('lr', 'momentum', 'weight_decay')
        if isinstance(defaults.get(k), (int, float)))
    return wrapper, text, decay
