"""The paper's learning-rate rule, written once.

He et al. (docs/recipe.md) divide the LR by 10 at the last 60k and the last 20k
iterations of every schedule longer than 1x, whatever its length (2x = 180k
with drops at 120k and 160k, 6x = 540k with drops at 480k and 520k). A
schedule config therefore states only its length; the drop points follow
from the end of the training loop, which mmengine passes as ``end``.
"""
from typing import Sequence, Tuple

from mmengine.optim.scheduler import MultiStepLR
from mmengine.registry import PARAM_SCHEDULERS


def drop_points(end: int, before_end: Sequence[int],
                begin: int = 0) -> list:
    """Iterations at which the LR drops: ``end - d`` for each ``d``.

    Args:
        end: Last iteration of the schedule (exclusive), e.g. 540000.
        before_end: Distances of the drops from the end, e.g. (60000, 20000).
        begin: First iteration the scheduler is active at.

    Returns:
        The drop iterations, ascending.

    Raises:
        ValueError: if a drop would fall before ``begin`` (the schedule is
            shorter than the rule assumes).
    """
    points = sorted(end - d for d in before_end)
    if points and points[0] <= begin:
        raise ValueError(
            f'LR drops {sorted(before_end, reverse=True)} iterations before '
            f'the end need a schedule longer than {max(before_end)} '
            f'iterations after iteration {begin}, but it ends at {end}')
    return points


def paper_drops_before_end(times: int, iters_1x: int) -> Tuple[int, int]:
    """Distances of the two LR drops from the end of an ``times``-x schedule.

    The paper's rule: a 1x drops at 2/3 and 8/9 of its length (1/3 and 1/9
    before its end); every longer schedule drops at the last 2/3 and the
    last 2/9 of a 1x (60k and 20k of 90k), whatever its length.

    Args:
        times: Schedule length in units of 1x (1 or more).
        iters_1x: Iterations of a 1x at the schedule's batch.
    """
    if times == 1:
        return round(iters_1x / 3), round(iters_1x / 9)
    return round(iters_1x * 2 / 3), round(iters_1x * 2 / 9)


def distances_before_end(end: int, drops_before_end: Sequence[int] = None,
                         fractions_before_end: Sequence[float] = None
                         ) -> Tuple[int, ...]:
    """The drops' distances from ``end``, given as iterations or as
    fractions of the schedule's length (exactly one of the two)."""
    if (drops_before_end is None) == (fractions_before_end is None):
        raise ValueError('DropBeforeEndLR needs exactly one of '
                         'drops_before_end and fractions_before_end')
    if fractions_before_end is not None:
        return tuple(round(f * end) for f in fractions_before_end)
    return tuple(drops_before_end)


def rule_drop_points(rule: dict, end: int) -> list:
    """Drop iterations of a ``DropBeforeEndLR`` config for a schedule length.

    Args:
        rule: The scheduler's config (``drops_before_end`` or
            ``fractions_before_end``).
        end: The schedule's length (``max_iters``).
    """
    return drop_points(end, distances_before_end(
        end, rule.get('drops_before_end'), rule.get('fractions_before_end')))


@PARAM_SCHEDULERS.register_module()
class DropBeforeEndLR(MultiStepLR):
    """Multiplies the LR by ``gamma`` at fixed distances before the end.

    Args:
        optimizer: Wrapped optimizer.
        drops_before_end: How many iterations before ``end`` each drop
            happens; the paper's rule is ``(60000, 20000)`` at batch 16.
        fractions_before_end: Instead of ``drops_before_end``, distances
            as fractions of the schedule's length: the standard 1x (drops
            at 60k and 80k of 90k) is ``(1/3, 1/9)``, a shape shorter
            schedules keep.
        gamma: LR factor at each drop. Defaults to 0.1.
        begin: First step the scheduler is active at. Defaults to 0.
        end: Last step (exclusive); the Runner sets it to ``max_iters`` when
            the config leaves it out, which is how the rule reads a
            schedule's length.
        by_epoch: Must be False: the rule is stated in iterations.
        **kwargs: Other ``MultiStepLR`` arguments.
    """

    def __init__(self, optimizer, drops_before_end: Sequence[int] = None,
                 fractions_before_end: Sequence[float] = None,
                 gamma: float = 0.1, begin: int = 0, end: int = None,
                 by_epoch: bool = False, **kwargs):
        if by_epoch:
            raise ValueError('DropBeforeEndLR counts iterations: set '
                             'by_epoch=False')
        if end is None:
            raise ValueError('DropBeforeEndLR needs `end` (the schedule '
                             'length); the Runner sets it from max_iters')
        self.drops_before_end = distances_before_end(
            end, drops_before_end, fractions_before_end)
        # MultiStepLR counts steps from `begin`.
        milestones = [p - begin for p in
                      drop_points(end, self.drops_before_end, begin)]
        super().__init__(optimizer, milestones=milestones, gamma=gamma,
                         begin=begin, end=end, by_epoch=False, **kwargs)
