"""The report's tables: each detection run's numbers, the seed means the
Table 1 layout is built from, and the time line.

The time line is when each run trained, in minutes since this invocation of
the study started: ``timings.json`` holds ``time_line = {NAME: {'start': s,
'end': s}}`` (seconds since the invocation started) for the runs it
trained (:func:`.run.run_study`). The runs it found trained already, by an
earlier invocation, have none: they are listed as reused, and so is every
run of a ``timings.json`` written before the time line existed.
"""
from statistics import mean
from typing import Dict, List, Sequence

from rethink_mmdet.analysis import RunLog
from rethink_mmdet.analysis.curves import seed_groups
from rethink_mmdet.analysis.scratch_vs_pretrained import format_table
from rethink_mmdet.toy.study_groups import BOX, Pair, ap
from rethink_mmdet.toy.study_plan import Run

MASK = 'coco/segm_mAP'


def runs_table(pairs: Sequence[Pair], seconds: Dict[str, float]) -> str:
    """One Markdown row per detection run: its final metrics and time; a
    mask AP column only when a run logged mask AP (a Faster R-CNN has
    none)."""
    masks = any(log.has_metric(MASK) for _, log in pairs)
    header = ['run', 'seed', 'iterations', 'train images',
              'box AP at 1/4 of 1x', 'peak box AP (iter)', 'final box AP',
              'AP50', 'AP75'] + ['final mask AP'] * masks + ['minutes']
    rows = []
    for run, log in pairs:
        box = log.metric(BOX)
        quarter = min(box)
        peak = max(box, key=box.get)
        row = [run.label, str(run.seed), str(run.max_iters),
               str(run.train_images or 'all'),
               f'{ap(log, BOX, quarter):.1f} ({quarter})',
               f'{ap(log, BOX, peak):.1f} ({peak})', f'{ap(log):.1f}',
               f'{ap(log, "coco/bbox_mAP_50"):.1f}',
               f'{ap(log, "coco/bbox_mAP_75"):.1f}']
        if masks:
            row.append(f'{ap(log, MASK):.1f}' if log.has_metric(MASK)
                       else '-')
        rows.append(row + [
            f'{seconds.get(run.name, float("nan")) / 60:.1f}'])
    return format_table(rows, markdown=True, header=header)


def seed_means(pairs: Sequence[Pair]) -> List[RunLog]:
    """Each group of runs that differ only by seed as one log: the first
    seed's name and config, and one validation, at the group's last
    iteration, holding the mean over seeds of each metric every seed's
    final validation logged (the Table 1 layout's input)."""
    groups = seed_groups([log for _, log in pairs],
                         [run.label for run, _ in pairs])
    merged = []
    for logs in groups.values():
        lasts = [max(log.val) for log in logs]
        finals = [log.val[last] for log, last in zip(logs, lasts)]
        keys = set.intersection(*(set(final) for final in finals))
        merged.append(RunLog(
            work_dir=logs[0].work_dir, name=logs[0].name,
            config_path=logs[0].config_path,
            val={max(lasts): {key: mean(final[key] for final in finals)
                              for key in sorted(keys)}}))
    return merged


def time_line(runs: Sequence[Run], stamps: Dict[str, Dict[str, float]],
              total_seconds: float) -> str:
    """The report's time line: a Markdown table of the runs this invocation
    trained, by start, then the reused ones, and the invocation's wall time.

    Args:
        runs: Every run of the study, the pre-training included.
        stamps: Start and end of each run trained, in seconds since the
            invocation started (``timings.json``'s ``time_line``).
        total_seconds: The invocation's wall time up to the report.
    """
    trained = sorted((run for run in runs if run.name in stamps),
                     key=lambda run: stamps[run.name]['start'])
    rows = []
    for run in trained:
        start, end = stamps[run.name]['start'], stamps[run.name]['end']
        rows.append([run.label, str(run.seed), f'{start / 60:.1f}',
                     f'{end / 60:.1f}', f'{(end - start) / 60:.1f}'])
    reused = [run for run in runs if run.name not in stamps]
    rows += [[run.label, str(run.seed), 'reused', '-', '-']
             for run in reused]
    table = format_table(rows, markdown=True, header=[
        'run', 'seed', 'start (min)', 'end (min)', 'wall minutes'])
    return (f'{table}\n\nStudy wall time: {total_seconds / 60:.1f} min '
            '(this invocation of tools/study.py, from its start to the '
            f'report): {len(trained)} runs trained, {len(reused)} reused '
            'from an earlier invocation.')
