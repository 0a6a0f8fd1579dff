"""The study (``make study``): the paper's main experiment at toy scale, end
to end.

1. generate the synthetic COCO data (and the less-data subsets);
2. check and measure the shipped pre-trained toy classifier (the stand-in
   for ImageNet, :mod:`.backbone`), or with ``pretrain`` train it on its
   generated classification task; save its backbone as an ImageNet-style
   checkpoint;
3. train the toy Faster R-CNN from scratch and from that backbone at several
   schedule lengths (and both on a small subset), validating as they train:
   the runs are a local campaign in ``OUT/runs`` (:mod:`.study_execute`),
   whose status table is printed at the end;
4. draw the curves, build the Table-1-style table and write report.md.

Safe to re-run: finished runs are skipped, an interrupted run resumes from
its last checkpoint, and the figure, table and report are rebuilt. A failed
run does not stop the others; the study then ends with a
:class:`~.study_execute.StudyError` naming the failed runs, and no report.
"""
import datetime
import json
import os
import os.path as osp
import time
from functools import partial
from typing import Dict

from rethink_mmdet.runner import UsageError


def _prepare_data(scale, out: str, less_data: bool) -> Dict[str, object]:
    from rethink_mmdet.datasets import make_coco_subset
    from rethink_mmdet.datasets.synthetic_coco import (
        generate_if_needed,
        make_synthetic_coco,
    )
    root = (osp.join(out, scale.data_root) if scale.data_in_out else
            scale.data_root)
    ann_files = generate_if_needed(
        root, scale.num_train, scale.num_val,
        make=partial(make_synthetic_coco, object_size=scale.object_size),
        stamp_extra=dict(object_size=list(scale.object_size)))
    subsets = {}
    for images, _ in (scale.subsets if less_data else ()):
        subsets[images] = osp.abspath(osp.join(
            root, 'annotations', f'instances_train-{images}.json'))
        if not osp.isfile(subsets[images]):
            make_coco_subset(ann_files['train'], images, 0, subsets[images])
    return dict(root=root, subsets=subsets)


def _load_timings(path: str) -> dict:
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return dict(runs={}, phases={})


def _save_json(path: str, value) -> None:
    with open(path, 'w') as f:
        json.dump(value, f, indent=1)


def _analyse(runs, pretrain, out: str, timings: dict, header,
             iters_1x: int, total_seconds: float) -> Dict[str, str]:
    """The curves, the Table 1 layout and the report, from the logs."""
    from rethink_mmdet.analysis import read_work_dir
    from rethink_mmdet.analysis.curves import plot_curves, plot_seed_groups
    from rethink_mmdet.analysis.scratch_vs_pretrained import (
        HEADER,
        build_rows,
        format_table,
        without_absent_metrics,
    )
    from rethink_mmdet.datasets.synthetic_shapes import CLASSES
    from rethink_mmdet.toy.study_report import write_report
    from rethink_mmdet.toy.study_tables import seed_means, time_line

    detection = [run for run in runs if run.kind == 'detection']
    logs = [read_work_dir(run.work_dir) for run in detection]
    figure = osp.join(out, 'curves.png')
    # A mask AP subplot only where the detector has a mask head.
    _, csv_path = plot_seed_groups(logs, [run.label for run in detection],
                                   ['bbox_mAP', 'segm_mAP'], figure)
    pretrain_figure = osp.join(out, 'pretrain_curve.png')
    plot_curves([pretrain], ['cls/top1'], pretrain_figure,
                legends=['pre-training, held-out top-1'])
    # Each run is its seeds' mean; no reference numbers exist for the toy,
    # so the metafile columns go.
    pairs = list(zip(detection, logs))
    rows, table_header = without_absent_metrics(
        [row[:-2] for row in build_rows(seed_means(pairs))], HEADER[:-2])
    table = format_table(rows, markdown=True, header=table_header)
    table_path = osp.join(out, 'table.md')
    with open(table_path, 'w') as f:
        f.write(table + '\n')
    report_path = osp.join(out, 'report.md')
    write_report(report_path, pairs, pretrain,
                 100 / len(CLASSES), iters_1x, table, timings['runs'],
                 header, time_line(runs, timings['time_line'],
                                   total_seconds))
    return dict(figure=figure, csv=csv_path, pretrain=pretrain_figure,
                table=table_path, report=report_path)


def _shipped_pretraining(backbone: str):
    """Checks the shipped classifier, installs its backbone, measures its
    held-out top-1; returns its log for the report and the header line."""
    from rethink_mmdet.models.classifier import export_backbone
    from rethink_mmdet.toy.pretraining import (
        check_shipped,
        held_out_top1,
        shipped_log,
        shipped_paths,
    )
    from rethink_mmdet.toy.study_plan import PRETRAIN_BASE, TOY_DIR
    record = check_shipped()
    weights = shipped_paths()['weights']
    if not osp.isfile(backbone):
        export_backbone(weights, backbone)
    top1 = held_out_top1(osp.join(TOY_DIR, PRETRAIN_BASE), weights)
    recorded = record['held_out_top1'][str(record['iterations'])]
    print(f'shipped pre-trained classifier: held-out top-1 {top1:.1f}% '
          f'(recorded when trained: {recorded:.1f}%); backbone in '
          f'{backbone}', flush=True)
    line = (f"Pre-training: the shipped classifier ({record['iterations']} "
            f"iterations at batch {record['batch']}, "
            f"{record['images_seen']:,} images, trained in "
            f"{record['training_minutes']} min, {record['trained_on']}); "
            '`--pretrain` re-trains it.')
    return shipped_log(record, top1), line


def run_study(scale_name: str = 'full', out: str = 'work_dirs/study',
              seed: int = 0, seeds: int = 2, less_data: bool = True,
              verbose: bool = False, jobs: int = 2,
              pretrain: bool = False) -> Dict[str, str]:
    """Runs (or resumes) the whole study; returns the output files by name.

    Args:
        scale_name: A key of :data:`~.plan.SCALES`.
        out: Output folder.
        seed: Seed of the pre-training and of the first detection seed.
        seeds: Detection runs are repeated with seeds ``seed``,
            ``seed + 1``, ...: the report's spread (two by default, the
            fewest that measure one). Runs already trained
            (for example by an earlier study with fewer seeds) are reused.
        less_data: Also train the less-data runs.
        verbose: Also print the trainings' own logs.
        jobs: Runs trained side by side, sharing the cores.
        pretrain: Train the pre-training too, and write it in the shipped
            format under ``OUT/pretrain/`` (default: fine-tune the shipped
            classifier, :mod:`.backbone`).

    Raises:
        StudyError: Some runs failed or could not run (after the others
            finished); the message names them and their logs.
    """
    if seeds < 1:
        raise UsageError(f'--seeds must be at least 1, got {seeds}')
    if jobs < 1:
        raise UsageError(f'--jobs must be at least 1, got {jobs}')
    from rethink_mmdet.analysis import read_work_dir
    from rethink_mmdet.campaign.campaign_dir import Campaign
    from rethink_mmdet.campaign.local_executor import LocalExecutor
    from rethink_mmdet.campaign.row_status import format_states, row_state
    from rethink_mmdet.toy.pretraining import export_trained
    from rethink_mmdet.toy.progress_display import format_seconds
    from rethink_mmdet.toy.study_execute import (
        PLANNER,
        Progress,
        StudyHooks,
        failed_runs_error,
        study_rows,
    )
    from rethink_mmdet.toy.study_plan import BACKBONE_NAME, SCALES, plan_runs

    scale = SCALES[scale_name]
    out_arg, out = out, osp.abspath(out)
    if osp.exists(out) and not osp.isdir(out):
        raise UsageError(f'--out {out_arg} exists and is not a folder')
    os.makedirs(out, exist_ok=True)
    timings_path = osp.join(out, 'timings.json')
    timings = _load_timings(timings_path)
    start = time.time()
    # This invocation's time line: seconds since ``start`` of the runs it
    # trains; the others are reused (study/tables.py).
    timings['time_line'] = {}

    print('== 1/4 data', flush=True)
    data = _prepare_data(scale, out, less_data)
    timings['phases']['data'] = round(time.time() - start, 1)
    runs = plan_runs(scale, out, osp.abspath(data['root']),
                     list(range(seed, seed + seeds)),
                     subset_anns=data['subsets'], pretrain=pretrain)
    # The runs are a campaign in OUT/runs (each run's work_dir): its plan
    # grows when a later invocation adds seeds.
    campaign = Campaign.grow(osp.join(out, 'runs'), study_rows(runs),
                             PLANNER)
    rows = campaign.rows_named([run.name for run in runs])
    done = {row.name for row in rows if campaign.finished(row) is not None}
    todo = [run for run in runs if run.name not in done]
    progress = Progress(todo, scale.prior_seconds, jobs=jobs)
    print(f'{len(runs)} runs, {len(done)} already done, {jobs} at a time; '
          f'about {format_seconds(progress.eta())} of training left '
          f'(estimate); from another terminal: tools/campaign.py status '
          f'--campaign-dir {campaign.folder}', flush=True)
    backbone_dir = osp.join(out, 'pretrain')
    env = dict(os.environ, RETHINK_IMAGENET_DIR=backbone_dir)
    # The cores shared between the runs, unless the user chose.
    env.setdefault('OMP_NUM_THREADS',
                   str(max(1, (os.cpu_count() or 1) // jobs)))
    backbone = osp.join(backbone_dir, BACKBONE_NAME + '.pth')
    pretrain_header = []
    if not pretrain:
        print('== 2/4 pre-training: shipped', flush=True)
        pretrain_log, line = _shipped_pretraining(backbone)
        pretrain_header.append(line)
    detections = [run for run in runs if run.kind == 'detection']
    steps = {run.name: f'3/4 detection {index}/{len(detections)}'
             for index, run in enumerate(detections, 1)}
    steps.update({run.name: '2/4 pre-training' for run in runs
                  if run.kind == 'pretrain'})

    def export(run):
        # The fine-tunings load the pre-training's backbone: its row's
        # end hook writes it before they start (or now, if it was done).
        if run.kind != 'pretrain' or osp.isfile(backbone):
            return
        count = export_trained(run, backbone, timings['runs'].get(run.name))
        print(f'backbone ({count} tensors) saved as {backbone}; the '
              f'classifier in the shipped format in {backbone_dir}',
              flush=True)

    for run in runs:
        if run.name in done:
            print(f'== {steps[run.name]}: {run.label} ({run.max_iters} '
                  f'iterations)\nalready trained: {run.work_dir}',
                  flush=True)
            export(run)
    hooks = StudyHooks({run.name: run for run in runs}, progress, steps,
                       timings, start, on_end=export,
                       save=partial(_save_json, timings_path),
                       verbose=verbose)
    results = LocalExecutor(campaign, jobs, hooks, env=env).run(
        [row for row in rows if row.name not in done])
    print(format_states([row_state(campaign, row)
                         for row in campaign.rows]), flush=True)
    error = failed_runs_error(campaign, runs, results, hooks.skipped)
    if error is not None:
        raise error

    print('== 4/4 curves, table and report', flush=True)
    analysis_start = time.time()
    if pretrain:
        pretrain_log = read_work_dir(runs[0].work_dir)
    pretrain_s = sum(timings['runs'].get(r.name, 0) for r in runs
                     if r.kind == 'pretrain')
    detection_s = sum(timings['runs'].get(r.name, 0) for r in runs
                      if r.kind == 'detection')
    header = [
        f'Scale `{scale_name}`, {seeds} seed(s) from {seed}, '
        f'{scale.num_train} training / {scale.num_val} validation images, '
        f'measured on {os.cpu_count()} CPU cores, '
        f'{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC '
        f'(`tools/study.py --scale {scale_name} --seeds {seeds}`).',
        f'Training time (each run\'s wall time, {jobs} runs at a time, '
        f'summed over invocations): pre-training '
        f'{pretrain_s / 60:.1f} min, detection {detection_s / 60:.1f} min; '
        f'this invocation {(time.time() - start) / 60:.1f} min before '
        'the analysis.'] + pretrain_header
    paths = _analyse(runs, pretrain_log, out, timings, header,
                     scale.iters_1x, time.time() - start)
    timings['phases']['analysis'] = round(time.time() - analysis_start, 1)
    timings['phases']['last_invocation'] = round(time.time() - start, 1)
    _save_json(timings_path, timings)
    for name, path in paths.items():
        print(f'{name:7} {path}')
    print(f'study took {format_seconds(time.time() - start)} '
          f'(this invocation)')
    return paths
