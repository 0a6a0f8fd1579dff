"""Which parameters does ``init_weights()`` leave as they were built?

mmengine runs a module's ``init_cfg`` from ``BaseModule.init_weights``; a
class that replaces ``init_weights`` without calling it (mmdet's
``DetectoRS_ResNet`` does, a user's backbone easily does) silently skips
it: with ``init_cfg=dict(type='ScratchInit')`` the paper's MSRA init never
runs there, nor does ScratchInit's guard, and the parameters keep whatever
the constructor left (PyTorch's default init, or uninitialized memory for
an ``nn.Parameter(torch.Tensor(...))``). Nothing raises.

:func:`untouched_by_init` finds them by value: every parameter is set to
a marker before ``init_weights()``, and those still holding it afterwards
were written by no init. They get their values back, so the model stays
as the constructor and the init left it.
"""
import copy
from typing import Callable, Collection, List, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import BaseInit
from mmengine.registry import WEIGHT_INITIALIZERS

from rethink_mmdet.readiness.train_step_probe import quiet_mmengine_logger

#: A value no init draws or sets (inits write 0, 1, or random draws).
_MARKER = -12345.25


def untouched_by_init(model: nn.Module, init: Callable[[], object],
                      skip: Sequence[str] = ()) -> List[str]:
    """Calls ``init()`` (e.g. ``model.init_weights``) and names the
    parameters it did not write.

    Args:
        model: The model ``init`` initializes.
        init: Initializes it; its exceptions propagate, after the
            parameters it did not write get their values back.
        skip: Module names whose parameters are not checked (those whose
            checkpoint init was dropped: a checkpoint writes them).

    Returns:
        The names of the parameters ``init()`` left as they were built.
    """
    params = [(name, p) for name, p in model.named_parameters()
              if p.numel() and not any(
                  name.startswith(f'{s}.') for s in skip if s)]
    if any(not s for s in skip):  # the whole model is skipped
        params = []
    saved = {name: p.detach().clone() for name, p in params}
    with torch.no_grad():
        for _, p in params:
            p.fill_(_MARKER)
    untouched = []
    try:
        init()
    finally:
        with torch.no_grad():
            for name, p in params:
                if bool((p == _MARKER).all()):
                    untouched.append(name)
                    p.copy_(saved[name])
    return untouched


class InitCfgProbe(BaseInit):
    """An init_cfg that only records that it ran (:func:`ignores_init_cfg`
    sets it on a copy). Registered by the checker when it runs, never by
    importing the package: no config can name it."""

    def __call__(self, module: nn.Module) -> None:
        module.init_cfg_ran = True


def register_init_probe() -> None:
    """Registers :class:`InitCfgProbe` in mmengine's
    ``WEIGHT_INITIALIZERS`` (once)."""
    if WEIGHT_INITIALIZERS.get('InitCfgProbe') is not InitCfgProbe:
        WEIGHT_INITIALIZERS.register_module(name='InitCfgProbe',
                                            module=InitCfgProbe)


def ignores_init_cfg(module: nn.Module) -> bool:
    """Whether ``module``'s ``init_weights`` never runs its ``init_cfg``:
    tried on a copy with :class:`InitCfgProbe` as its init_cfg. A class
    that refuses it (Swin, PVT: only ``Pretrained``) raises; that is
    another finding, not counted here."""
    if not isinstance(module, BaseModule) or (
            type(module).init_weights is BaseModule.init_weights):
        return False
    register_init_probe()
    trial = copy.deepcopy(module)
    trial.init_cfg = dict(type='InitCfgProbe')
    try:
        with quiet_mmengine_logger():
            trial.init_weights()
    except Exception:  # noqa: BLE001  (a refusal is another finding)
        return False
    return not getattr(trial, 'init_cfg_ran', False)


def _self_initializing_owner(module: nn.Module, path: str) -> str:
    """The outermost module on ``path`` (a parameter's name inside
    ``module``) whose class replaces mmengine's ``init_weights``."""
    names = path.split('.')[:-1]
    for depth in range(len(names) + 1):
        owner = module.get_submodule('.'.join(names[:depth]))
        if isinstance(owner, BaseModule) and (
                type(owner).init_weights is not BaseModule.init_weights):
            return type(owner).__name__
    return ''


def untouched_lines(parts, scratch_init: Collection[str],
                    untouched: Sequence[str]):
    """The checker's lines for :func:`untouched_by_init`'s findings.

    Args:
        parts: ``(name, module)`` of each model part.
        scratch_init: The parts whose init_cfg (or an ancestor's) is
            ``ScratchInit``.
        untouched: Parameter names (from the model's root).

    Returns:
        The problems (parts that claim ``ScratchInit``: it never ran on
        those parameters) and the notes (parts that initialize themselves:
        their own init leaves them), one line per part.
    """
    problems, notes = [], []
    for part, module in parts:
        names = [n[len(part) + 1:] for n in untouched
                 if n.startswith(part + '.')]
        if not names:
            continue
        shown = ', '.join(names[:3]) + (', ...' if len(names) > 3 else '')
        said = (f'{part}: {len(names)} parameters keep the values they were '
                f'built with after init_weights() ({shown})')
        if part not in scratch_init:
            notes.append(f'{said}: its own init leaves them')
            continue
        owner = _self_initializing_owner(module, names[0])
        if owner:
            why = (f'{owner}.init_weights replaces mmengine\'s and ignores '
                   'init_cfg, so ScratchInit (and its guard) never runs '
                   'there: call super().init_weights() in it (that runs '
                   'init_cfg), or initialize every parameter there')
        else:
            why = ('ScratchInit initializes convolutions, linear and norm '
                   'layers only: initialize them in the init_weights of '
                   'the module that owns them')
        problems.append(f'init: {said}: {why}')
    return problems, notes
