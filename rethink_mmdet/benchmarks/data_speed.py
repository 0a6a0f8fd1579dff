"""Images per second of a config's train pipeline, side by side with
another config's (``tools/analysis_tools/benchmark_data.py``).

The configs read generated COCO-like images
(:mod:`rethink_mmdet.benchmarks.coco_images`) through their own train
dataset, pipeline and data loader, as ``tools/train.py`` builds them
(``Runner.build_dataloader``: sampler, aspect-ratio batches, collate),
with only the data root, annotation file and worker count replaced:

- *in-process*: ``dataset[i]`` in this process (the pipeline alone: what
  one worker can give at most);
- *N workers*: batches from the ``DataLoader`` with N worker processes,
  timed from the first batch (worker start-up excluded) to the last, so
  the transfer of each batch to the training process is included.

Worker memory is sampled every 20 ms from ``/proc/PID/smaps_rollup``: the
resident set (RSS, which counts pages shared with the parent after fork)
and the unique set (USS: private pages, what each extra worker costs).
"""
import os
import threading
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from rethink_mmdet.runner import UsageError, load_config


def _dataset_node(dataset_cfg):
    """The innermost dataset config (inside RepeatDataset and friends)."""
    while 'pipeline' not in dataset_cfg:
        if 'dataset' not in dataset_cfg:
            raise UsageError('train_dataloader.dataset has no pipeline '
                             f'(type {dataset_cfg.get("type")!r})')
        dataset_cfg = dataset_cfg.dataset
    return dataset_cfg


def train_loader_cfg(config: str, ann_file: str, classes: Sequence[str],
                     batch_size: Optional[int] = None):
    """The config's ``train_dataloader``, reading ``ann_file`` (images
    beside it, one directory up) with ``classes``."""
    cfg = load_config(config)
    loader = cfg.train_dataloader
    dataset = _dataset_node(loader.dataset)
    if dataset.get('type') not in ('CocoDataset', 'mmdet.CocoDataset'):
        raise UsageError(f'{config}: the benchmark reads COCO-format data; '
                         f'train dataset type is {dataset.get("type")!r}')
    dataset.update(
        data_root=os.path.dirname(os.path.dirname(ann_file)),
        ann_file=ann_file, data_prefix=dict(img=''),
        metainfo=dict(classes=tuple(classes)), backend_args=None)
    # The generated set is small: keep every image.
    dataset.pop('indices', None)
    if batch_size is not None:
        loader.batch_size = batch_size
    return loader


class _WorkerMemory:
    """Peak RSS and USS (bytes) over the worker processes of a loader
    iterator, sampled by a background thread."""

    def __init__(self, iterator, period: float = 0.02):
        self.pids = [w.pid for w in getattr(iterator, '_workers', [])]
        self.period, self.rss, self.uss = period, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, pid: int) -> None:
        fields = {}
        try:
            with open(f'/proc/{pid}/smaps_rollup') as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 3 and parts[2] == 'kB':
                        fields[parts[0].rstrip(':')] = int(parts[1]) * 1024
        except OSError:  # the worker has exited
            return
        self.rss = max(self.rss, fields.get('Rss', 0))
        self.uss = max(self.uss, fields.get('Private_Clean', 0)
                       + fields.get('Private_Dirty', 0))

    def _run(self):
        while not self._stop.is_set():
            for pid in self.pids:
                self._sample(pid)
            time.sleep(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def pipeline_rate(dataset, num_images: int, warmup: int = 2) -> float:
    """Images/s of ``dataset[i]`` in this process (one worker's work)."""
    for i in range(warmup):
        dataset[i % len(dataset)]
    start = time.perf_counter()
    for i in range(num_images):
        dataset[(warmup + i) % len(dataset)]
    return num_images / (time.perf_counter() - start)


def loader_rate(loader_cfg, workers: int,
                num_batches: int) -> Dict[str, float]:
    """Images/s of the config's DataLoader with ``workers`` processes, and
    the workers' peak memory (MiB)."""
    from mmengine.runner import Runner
    cfg = loader_cfg.copy()
    cfg.update(num_workers=workers, persistent_workers=False)
    loader = Runner.build_dataloader(cfg, seed=0)
    available = len(loader) - 1
    if available < 1:
        raise UsageError(f'{len(loader.dataset)} images give {len(loader)} '
                         'batches; the loader benchmark needs at least 2')
    num_batches = min(num_batches, available)
    iterator = iter(loader)
    with _WorkerMemory(iterator) as memory:
        next(iterator)  # worker start-up and the first batch: not timed
        start = time.perf_counter()
        images = 0
        for _ in range(num_batches):
            images += len(next(iterator)['inputs'])
        seconds = time.perf_counter() - start
    del iterator
    return dict(images_s=images / seconds, rss_mb=memory.rss / 2**20,
                uss_mb=memory.uss / 2**20)


def profile_transforms(dataset, num_images: int) -> Dict[str, float]:
    """Milliseconds per image in each transform of the dataset's pipeline,
    and in the dataset itself (reading the annotation record)."""
    totals: Dict[str, float] = defaultdict(float)
    transforms = dataset.pipeline.transforms
    originals = list(transforms)

    def timed(transform, name):
        def call(results):
            start = time.perf_counter()
            out = transform(results)
            totals[name] += time.perf_counter() - start
            return out
        return call

    for index, transform in enumerate(originals):
        name = f'{index}:{type(transform).__name__}'
        transforms[index] = timed(transform, name)
    try:
        start = time.perf_counter()
        for i in range(num_images):
            dataset[i % len(dataset)]
        total = time.perf_counter() - start
    finally:
        transforms[:] = originals
    profile = {name: 1e3 * s / num_images for name, s in totals.items()}
    profile['dataset (record, copies)'] = (
        1e3 * total / num_images - sum(profile.values()))
    profile['total'] = 1e3 * total / num_images
    return profile


def compare(configs: Sequence[str], ann_file: str, classes: Sequence[str],
            workers: int, num_images: int, batch_size: Optional[int] = None,
            rounds: int = 2, profile: bool = False) -> List[dict]:
    """Measures every config; the configs alternate so that load on a
    shared machine hits them alike, and each keeps its best round."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    loaders = [train_loader_cfg(c, ann_file, classes, batch_size)
               for c in configs]
    datasets = [DATASETS.build(loader.dataset) for loader in loaders]
    rows = [dict(config=c, batch_size=loader.batch_size,
                 in_process=0.0, workers=workers, rss_mb=0.0, uss_mb=0.0)
            for c, loader in zip(configs, loaders)]
    counts = sorted({1, workers})
    for _ in range(rounds):
        for row, dataset, loader in zip(rows, datasets, loaders):
            row['in_process'] = max(row['in_process'],
                                    pipeline_rate(dataset, num_images))
            for n in counts:
                result = loader_rate(
                    loader, n, max(1, num_images * n // loader.batch_size))
                best = row.get(n)
                if best is None or result['images_s'] > best['images_s']:
                    row[n] = result
                for key in ('rss_mb', 'uss_mb'):  # peaks over all runs
                    row[key] = max(row[key], result[key])
    if profile:
        for row, dataset in zip(rows, datasets):
            row['profile'] = profile_transforms(dataset, num_images)
    return rows


def format_rows(rows: Sequence[dict], image_size: Sequence[int]) -> str:
    """The table: images/s per setting, worker memory and the ratio."""
    workers = rows[0]['workers']
    counts = sorted({1, workers})
    width = max(len(r['config']) for r in rows) + 2
    head = (f'{"config":<{width}}{"batch":>6}{"in-process":>12}'
            + ''.join(f'{f"{n} worker" + ("s" if n > 1 else ""):>12}'
                      for n in counts)
            + f'{"worker RSS MiB":>16}{"worker USS MiB":>16}')
    lines = [f'train pipeline on {image_size[0]}x{image_size[1]} JPEGs: '
             'images/s (best round), peak memory of one worker', head]
    for r in rows:
        lines.append(
            f'{r["config"]:<{width}}{r["batch_size"]:>6}'
            f'{r["in_process"]:>12.1f}'
            + ''.join(f'{r[n]["images_s"]:>12.1f}' for n in counts)
            + f'{r["rss_mb"]:>16.0f}{r["uss_mb"]:>16.0f}')
    if len(rows) == 2:
        a, b = rows
        lines.append(
            f'{"ratio (first / second)":<{width}}{"":>6}'
            f'{a["in_process"] / b["in_process"]:>11.2f}x'
            + ''.join(f'{a[n]["images_s"] / b[n]["images_s"]:>11.2f}x'
                      for n in counts)
            + f'{a["rss_mb"] / b["rss_mb"]:>15.2f}x'
            f'{a["uss_mb"] / b["uss_mb"]:>15.2f}x')
    for r in rows:
        if 'profile' in r:
            lines.append(f'\nms per image by transform, {r["config"]}:')
            lines += [f'  {name:<40}{ms:>9.2f}'
                      for name, ms in r['profile'].items()]
    return '\n'.join(lines)
