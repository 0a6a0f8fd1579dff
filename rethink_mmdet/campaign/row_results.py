"""What a finished row's logs say: its training time, time per iteration,
peak memory and final metrics, in the terms of OpenMMLab's metafiles.

mmengine's ``LoggerHook`` writes one training record every ``interval``
iterations with ``time``, the mean seconds per iteration over the last
``log_processor.window_size`` iterations (the row configs log every 50
and average over 50, so a record's ``time`` times the iterations since the
previous record is the time they took), and on a GPU ``memory``, the peak
MiB allocated since the previous record. A resumed row has one
``TIMESTAMP/vis_data/scalars.json`` per run; :func:`read_work_dir` keeps
each iteration's record from the run that kept it (the last), so the
iterations an interrupted run repeated after its checkpoint count once.
The peak memory is the largest of every run's records.
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

from rethink_mmdet.analysis.work_dirs import RunLog

#: Logged metric -> (task, metafile metric), as MMDetection's metafiles
#: name them (percent, one decimal).
METRICS = (
    ('coco/bbox_mAP', 'Object Detection', 'box AP'),
    ('coco/segm_mAP', 'Instance Segmentation', 'mask AP'),
    ('coco/keypoints_mAP', 'Keypoint Detection', 'keypoint AP'),
    ('pascal_voc/mAP', 'Object Detection', 'box AP'),
)


@dataclass(frozen=True)
class TrainingFacts:
    """A row's training as its logs record it.

    Attributes:
        iterations: The last logged training iteration.
        timed_iterations: The iterations whose time was logged.
        seconds: Their time, each counted once.
        peak_memory_mb: The largest ``memory`` logged (GPU runs only).
        runs: The ``scalars.json`` files (one per start or resume).
    """
    iterations: int
    timed_iterations: int
    seconds: float
    peak_memory_mb: Optional[float]
    runs: int

    @property
    def seconds_per_iter(self) -> Optional[float]:
        """Seconds per timed iteration (None when none was timed)."""
        if not self.timed_iterations:
            return None
        return self.seconds / self.timed_iterations


def training_facts(run: RunLog) -> TrainingFacts:
    """Sums ``time`` x the iterations since the previous record, over the
    iterations ``run`` holds once each (exact when the log interval is the
    averaging window, as in the row configs)."""
    seconds, timed, previous = 0.0, 0, 0
    for iteration in sorted(run.train):
        record = run.train[iteration]
        if 'time' in record:
            seconds += record['time'] * (iteration - previous)
            timed += iteration - previous
        previous = iteration
    files = run_files(run.work_dir)
    memory = logged_memory(files)
    return TrainingFacts(
        iterations=max(run.train, default=0), timed_iterations=timed,
        seconds=seconds, peak_memory_mb=max(memory) if memory else None,
        runs=len(files))


def run_files(work_dir: str) -> List[str]:
    """The ``scalars.json`` of each run of a work_dir, oldest first."""
    return sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))


def logged_memory(files: List[str]) -> List[float]:
    """Every training record's ``memory``, in every run: the peak a row
    needs was reached even in a run whose later iterations were redone."""
    memory = []
    for path in files:
        with open(path) as f:
            for line in f:
                # read_work_dir has parsed every line of these files.
                if '"memory"' in line:
                    record = json.loads(line)
                    if 'iter' in record:
                        memory.append(record['memory'])
    return memory


def final_validation(run: RunLog) -> Dict[str, float]:
    """The metrics of the last validation (raw, as logged)."""
    return dict(run.val[max(run.val)]) if run.val else {}


def results(metrics: Dict[str, float], dataset: str) -> List[dict]:
    """Model-index ``Results`` of logged metrics (``coco/bbox_mAP``...):
    one entry per task, in percent with one decimal."""
    by_task: Dict[str, dict] = {}
    for key, task, name in METRICS:
        if isinstance(metrics.get(key), (int, float)):
            by_task.setdefault(task, {})[name] = round(100 * metrics[key], 1)
    return [dict(Task=task, Dataset=dataset, Metrics=values)
            for task, values in by_task.items()]


def dataset_of(name: str) -> str:
    """The dataset a row's name ends with, as MMDetection's metafiles name
    it (``coco``, ``coco-35k``, ``coco-person`` -> COCO)."""
    data = name.rsplit('_', 1)[-1]
    if data.startswith('coco'):
        return 'COCO'
    if data.startswith('voc'):
        return 'Pascal VOC'
    return data


def metadata(facts: TrainingFacts, dataset: str) -> dict:
    """The model-index ``Metadata`` of a training row."""
    data = {'Training Data': dataset, 'Iterations': facts.iterations}
    if facts.timed_iterations:
        data['Training Time (s)'] = round(facts.seconds, 1)
        data['Time per Iteration (s)'] = round(facts.seconds_per_iter, 4)
    if facts.peak_memory_mb is not None:
        data['Training Memory (GB)'] = round(facts.peak_memory_mb / 1024, 2)
    return data
