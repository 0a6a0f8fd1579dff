"""What training does first, tried on a built model: the scratch checker's
last and decisive check (``tools/misc/check_scratch_ready.py``).

mmengine's ``Runner.train`` builds the model, calls ``model.init_weights()``
and then runs iterations of data preprocessor, ``forward(mode='loss')``,
``parse_losses``, backward and optimizer step. A model can pass every static
check and still fail there: mmdet's ``SwinTransformer`` and PVT accept only
a ``Pretrained`` init_cfg in their ``init_weights`` and raise with
``ScratchInit``; a head whose ``in_channels`` is not the neck's fails in its
first forward. :func:`init_like_runner` and :func:`probe_train_step` run the
same calls on the CPU, on a generated batch, and turn an exception into one
line that names the module it happened in.

No checkpoint is read: ``init_cfg`` entries with a ``checkpoint``
(``Pretrained``, ``PretrainedVGGFC``) are dropped before initializing (the
checker reports them separately), so a module such as Swin then uses its own
random init.

Shorthand: N images, S pixels per side.
"""
import contextlib
import copy
import logging
import math
from typing import List, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from rethink_mmdet.models.classifier import BackboneClassifier
from rethink_mmdet.models.init_policies import ScratchReadinessError


@contextlib.contextmanager
def quiet_mmengine_logger():
    """mmengine logs every parameter's init and each special parameter
    group (INFO, WARNING); the checker's report says what matters once."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def failing_module(error: BaseException, model: nn.Module) -> str:
    """The innermost module of ``model`` whose method is on the error's
    traceback, as ``'name (Class)'``; ``'the model'`` when none is."""
    names = {id(m): n for n, m in model.named_modules()}
    where = None
    tb = error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get('self')
        if isinstance(owner, nn.Module) and id(owner) in names:
            where = owner
        tb = tb.tb_next
    if where is None:
        return 'the model'
    return f'{names[id(where)] or "model"} ({type(where).__name__})'


def _message(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f'{type(error).__name__}: {text[0] if text else ""}'.rstrip(': ')


def drop_checkpoint_inits(model: nn.Module) -> List[str]:
    """Removes every init_cfg entry that reads a checkpoint, so that
    initializing loads nothing; returns the module names it changed."""
    changed = []
    for name, module in model.named_modules():
        init_cfg = getattr(module, 'init_cfg', None)
        if not init_cfg:
            continue
        entries = init_cfg if isinstance(init_cfg, (list, tuple)) else [
            init_cfg]
        kept = [c for c in entries
                if not (isinstance(c, dict) and c.get('checkpoint'))]
        if len(kept) < len(entries):
            module.init_cfg = (kept or None) if isinstance(
                init_cfg, (list, tuple)) else None
            changed.append(name or 'model')
    return changed


def init_like_runner(model: nn.Module) -> List[str]:
    """``model.init_weights()`` as ``Runner.train`` calls it.

    Returns:
        The problem, one line naming the module and the fix, or nothing.

    Raises:
        ScratchReadinessError: ``ScratchInit`` refused a component; its
            reasons are the checker's per-part problem lines already.
    """
    if not hasattr(model, 'init_weights'):
        return []
    try:
        with quiet_mmengine_logger():
            model.init_weights()
    except ScratchReadinessError:
        raise  # the caller's per-part lines say why
    except Exception as e:  # noqa: BLE001  (any failure is the finding)
        where = failing_module(e, model)
        if 'Pretrained' in str(e):
            fix = ('it initializes itself and its init_weights accepts no '
                   'init_cfg but Pretrained: set its init_cfg=None to train '
                   'it from its own random init (docs/extending.md)')
        else:
            fix = 'give it an init_cfg its init_weights accepts'
        return [f'init: {where}: init_weights() fails as the Runner calls '
                f'it ({_message(e)}): {fix}']
    return []


def initializes_itself(module: nn.Module) -> bool:
    """Whether the class replaces mmengine's ``init_weights`` (so an
    ``init_cfg`` such as ``ScratchInit`` on it is not what initializes it,
    and may be refused, as Swin and PVT do)."""
    return isinstance(module, BaseModule) and (
        type(module).init_weights is not BaseModule.init_weights)


def demo_batch(model: nn.Module, size: int = 128, batch: int = 2) -> dict:
    """A training batch for ``model``: ``batch`` random ``S x S`` images
    with three boxes each (and masks, keypoints when its heads train on
    them), or class labels for a ``BackboneClassifier``.

    Raises:
        TypeError: For a model that is neither.
    """
    from mmdet.models.detectors import BaseDetector
    from mmdet.testing import demo_mm_inputs
    generator = torch.Generator().manual_seed(0)
    if isinstance(model, BackboneClassifier):
        images = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                                generator=generator) for _ in range(batch)]
        labels = torch.randint(0, model.fc.out_features, (batch, ),
                               generator=generator).tolist()
        return dict(inputs=images, data_samples=labels)
    if not isinstance(model, BaseDetector):
        raise TypeError(f'no training batch for a {type(model).__name__} '
                        '(MMDetection detectors and BackboneClassifier only)')
    roi_head = getattr(model, 'roi_head', None)
    heads = getattr(roi_head, 'bbox_head', None) or getattr(
        model, 'bbox_head', None)
    head = heads[0] if isinstance(heads, nn.ModuleList) else heads
    num_classes = getattr(head, 'num_classes', 2)
    data = demo_mm_inputs(
        batch_size=batch, image_shapes=[(3, size, size)] * batch,
        num_items=[3] * batch, num_classes=max(num_classes, 2),
        with_mask=bool(getattr(roi_head, 'with_mask', False)))
    keypoints = getattr(roi_head, 'keypoint_head', None)
    for sample in data['data_samples']:
        gt = sample.gt_instances
        gt.labels = gt.labels % num_classes  # demo labels start at 1
        if keypoints is not None:
            boxes = gt.bboxes if torch.is_tensor(gt.bboxes) else \
                gt.bboxes.tensor
            where = torch.rand((len(boxes), keypoints.num_keypoints, 2),
                               generator=generator)
            xy = boxes[:, None, :2] + where * (boxes[:, None, 2:] -
                                               boxes[:, None, :2])
            gt.keypoints = torch.cat([xy, torch.full_like(xy[..., :1], 2)],
                                     dim=-1)
    return data


def probe_train_step(model: nn.Module, optim_wrapper=None, size: int = 128,
                     batch: int = 2) -> Tuple[str, List[str]]:
    """One training iteration as mmengine's ``train_step`` runs it: data
    preprocessor, ``forward(mode='loss')``, ``parse_losses``, backward and
    optimizer step (``optim_wrapper``; plain SGD without one).

    Returns:
        What passed, in words, and the problems: the exception of the
        first call that fails, naming the module, or a loss that is not
        finite.
    """
    if optim_wrapper is None:
        from mmengine.optim import OptimWrapper
        optim_wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9))
    shape = f'{batch}x3x{size}x{size}'
    try:
        data = demo_batch(model, size, batch)
    except TypeError as e:
        return '', [f'train step: not run: {e}; the checker cannot tell '
                    'whether it trains']
    phase = 'the data preprocessor'
    model.train()
    try:
        data = model.data_preprocessor(data, True)
        phase = "forward(mode='loss')"
        losses = model(**data, mode='loss')
        phase = 'parse_losses'
        loss, log_vars = model.parse_losses(losses)
        phase = 'backward and the optimizer step'
        optim_wrapper.update_params(loss)
    except Exception as e:  # noqa: BLE001  (any failure is the finding)
        return '', [
            f'train step: {failing_module(e, model)}: one training step on '
            f'a {shape} batch fails in {phase} ({_message(e)}): the Runner '
            'would stop at the first iteration; fix that module\'s settings']
    value = float(loss.detach())
    if not math.isfinite(value):
        return '', [f'train step: the loss is {value} after one step on a '
                    f'{shape} batch ({", ".join(sorted(log_vars))}): check '
                    'the init and the LR']
    return (f'init_weights(), then forward, loss {value:.3f} and backward '
            f'with an optimizer step on a {shape} batch: passed'), []


def refuses_scratch_init(module: nn.Module) -> bool:
    """Whether ``module`` initializes itself and refuses ``ScratchInit``
    (mmdet's Swin and PVT accept only ``Pretrained``): tried on a copy."""
    if not initializes_itself(module):
        return False
    trial = copy.deepcopy(module)
    trial.init_cfg = dict(type='ScratchInit', check=False)
    try:
        with quiet_mmengine_logger():
            trial.init_weights()
    except Exception:  # noqa: BLE001  (any refusal counts)
        return True
    return False
