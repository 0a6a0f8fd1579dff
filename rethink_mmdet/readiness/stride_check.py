"""Do the heads read the feature maps at the strides the neck gives them?

A detector's heads are told the stride of each feature level, they do not
measure it: the RPN's ``anchor_generator.strides`` (a dense head's
``prior_generator``) lays anchors on ``stride``-pixel grids, and each RoI
extractor's ``featmap_strides`` scales box coordinates into the feature
map before RoIAlign. A backbone whose ``out_indices`` start at stride 8
(or a neck with ``start_level=1``) under the base's 4-64 strides raises
nothing: anchors land on the wrong grid, RoIAlign samples the wrong
places, and the first sign is a poor AP after the run. The checker's
probe forward (:func:`~rethink_mmdet.models.scratch_check.probe_forward`)
gives the feature sizes; :func:`stride_problems` compares the strides they
imply (input side / feature side) with every consumer's.

A level of 1 x 1 pixel only says that its stride is at least the input
side: it matches any configured stride from there up.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn


@dataclass
class StrideConsumer:
    """A module that is told the stride of each feature level.

    Args:
        key: Its strides' config key, e.g.
            ``'rpn_head.anchor_generator.strides'``.
        strides: The stride it assumes for each level it reads, in pixels.
        every_level: True for a dense head (one prior grid per level; it
            reads every level the neck returns), False for a RoI extractor
            (it reads the first ``len(strides)`` levels).
    """
    key: str
    strides: List[int]
    every_level: bool


def stride_consumers(model: nn.Module) -> List[StrideConsumer]:
    """Every dense head's prior generator and every RoI extractor of
    ``model`` (bbox, mask, keypoint; each cascade stage), in module order;
    a shared extractor is listed once."""
    consumers = []
    for name, module in model.named_modules():
        generator = getattr(module, 'prior_generator', None)
        if generator is not None and hasattr(generator, 'strides'):
            # mmdet's config key: anchor_generator for anchor heads,
            # strides for the anchor-free ones (FCOS, YOLOX).
            key = ('anchor_generator.strides' if 'Anchor' in type(
                generator).__name__ else 'strides')
            consumers.append(StrideConsumer(
                f'{name}.{key}', [int(s[0]) for s in generator.strides],
                True))
        elif hasattr(module, 'featmap_strides') and hasattr(
                module, 'roi_layers'):
            consumers.append(StrideConsumer(
                f'{name}.featmap_strides',
                [int(s) for s in module.featmap_strides], False))
    return consumers


def measured_strides(sizes: Sequence[Tuple[int, int]],
                     side: int) -> List[int]:
    """The stride of each level: the input side over the level's height
    (a 1-pixel level: the input side, a lower bound)."""
    return [side // max(h, 1) for h, _ in sizes]


def _matches(configured: int, measured: int, height: int) -> bool:
    return configured == measured or (height == 1 and configured > measured)


def _named(values: Sequence[int]) -> str:
    return ', '.join(map(str, values))


def _as_setting(consumers: Sequence[StrideConsumer], strides: List[int],
                sizes) -> str:
    """``key=[...]`` for each consumer: the measured strides, a 1-pixel
    level continuing the doubling of the one before it."""
    settled = []
    for i, (stride, (h, _)) in enumerate(zip(strides, sizes)):
        settled.append(max(stride, 2 * settled[-1]) if h == 1 and i
                       else stride)
    return ', '.join(f'{c.key}=[{_named(settled[:len(c.strides)])}]'
                     for c in consumers)


def _first_level_fix(first: int, backbone_strides: Optional[List[int]],
                     neck: Optional[nn.Module]) -> str:
    """How to make the neck's first level stride ``first``."""
    if backbone_strides and first in backbone_strides and hasattr(
            neck, 'start_level'):
        return (f"the neck's start_level={backbone_strides.index(first)} "
                f'(the backbone gives strides {_named(backbone_strides)})')
    where = (f' (it gives strides {_named(backbone_strides)})'
             if backbone_strides else '')
    return (f"the backbone's out_indices from its stride-{first} stage"
            f"{where}, with the neck's in_channels to match")


def describe_strides(sizes: Sequence[Tuple[int, int]], side: int,
                     consumers: Sequence[StrideConsumer]) -> str:
    """The measured strides and what reads them, in one line (empty
    without features)."""
    if not sizes:
        return ''
    text = ', '.join(f'{s}' if h > 1 else f'>={s}' for s, (h, _) in zip(
        measured_strides(sizes, side), sizes))
    read = '; '.join(f'{c.key} [{_named(c.strides)}]' for c in consumers)
    return f'{text} ({side} px input / feature size); read as: ' + (
        read or 'nothing tells the heads a stride')


def stride_problems(sizes: Sequence[Tuple[int, int]], side: int,
                    consumers: Sequence[StrideConsumer],
                    backbone_sizes: Optional[Sequence[Tuple[int, int]]] = None,
                    neck: Optional[nn.Module] = None) -> List[str]:
    """Compares the strides of the features the heads get with theirs.

    Args:
        sizes: Height and width of each feature level the heads get (the
            neck's outputs, or the backbone's without a neck).
        side: The side of the square input that gave them, in pixels.
        consumers: What reads them (:func:`stride_consumers`).
        backbone_sizes: The backbone's outputs on the same input, to say
            which ``out_indices`` / ``start_level`` gives the right strides.
        neck: The neck (for its ``start_level``), if any.

    Returns:
        At most two lines: consumers that read more (or, dense heads,
        fewer) levels than there are, and consumers whose strides are not
        the measured ones; each names both sides and the fix.
    """
    if not sizes or not consumers:
        return []
    strides = measured_strides(sizes, side)
    backbone = (measured_strides(backbone_sizes, side)
                if backbone_sizes else None)
    source = "the neck's outputs" if neck is not None else 'the features'
    measured = (f'{source} have strides {_named(strides)} ({side} px input '
                '/ feature size)')
    count, wrong = [], []
    for c in consumers:
        if len(c.strides) > len(strides) or (
                c.every_level and len(c.strides) != len(strides)):
            count.append(c)
        elif not all(_matches(s, m, h) for s, m, (h, _) in
                     zip(c.strides, strides, sizes)):
            wrong.append(c)
    problems = []
    if count:
        said = ', '.join(f'{c.key} has {len(c.strides)}' for c in count)
        fix = (f"set the neck's num_outs={len(count[0].strides)}"
               if hasattr(neck, 'num_outs') else
               f'give each {len(strides)} strides')
        problems.append(
            f'levels: {source} are {len(strides)} levels (strides '
            f'{_named(strides)}) but {said}: a head would read levels that '
            f'are not there or skip some; {fix}')
    if wrong:
        said = ', '.join(f'{c.key}=[{_named(c.strides)}]' for c in wrong)
        first = wrong[0].strides[0]
        problems.append(
            f'strides: {measured} but {said}: anchors and RoIAlign would '
            'use the wrong grid; make the first level stride '
            f'{first} ({_first_level_fix(first, backbone, neck)}), or set '
            f'{_as_setting(wrong, strides, sizes)}')
    return problems
