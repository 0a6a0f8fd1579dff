"""What the toy study trains: its scales, its runs and their configs.

The study is the paper's main experiment at laptop scale (tools/study.py):
pre-train the toy backbone on a generated classification task (the stand-in
for ImageNet), then train the toy Mask R-CNN from scratch and from that
backbone at several schedule lengths, and optionally both again on a small
subset of the training images.

Each run is an ordinary config under ``OUT/configs/``: a few lines over the
committed toy configs (same bases as the paper rows), with the schedule
built by the paper's rule scaled to the toy's "1x" (docs/recipe.md):

* 1x: LR /10 at 2/3 and 8/9 of the schedule (the standard 1x, 60k and 80k
  of 90k);
* Nx, N >= 2: LR /10 at the last 2/3 and the last 2/9 of a 1x (the last
  60k and 20k iterations of 90k), whatever the length.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from rethink_mmdet.engine.schedulers import paper_drops_before_end
from rethink_mmdet.runner.configs import configs_root

TOY_DIR = osp.join(configs_root(), 'toy')
DETECTOR_BASES = {
    'scratch': 'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_'
               'synthetic-coco.py',
    'pretrained': 'mask-rcnn_r18-tiny-pretrained_fpn_gn-all_toy-1200i_'
                  'synthetic-coco.py',
}
PRETRAIN_BASE = 'classifier_r18-tiny_gn_toy-1500i_synthetic-shapes.py'
#: The name the pre-trained detector config loads (``imagenet://NAME``); the
#: study writes ``OUT/pretrain/NAME.pth`` and sets $RETHINK_IMAGENET_DIR.
BACKBONE_NAME = 'toy-resnet18_gn_synthetic-shapes'
INIT_LABELS = {'scratch': 'scratch', 'pretrained': 'pre-trained'}


@dataclass(frozen=True)
class Scale:
    """Sizes of one version of the study.

    Attributes:
        num_train, num_val: Synthetic COCO images per split.
        data_root: Where the synthetic COCO data go (relative paths are
            relative to the study's output folder when ``data_in_out``).
        pretrain_iters, pretrain_batch, pretrain_size: Pre-training length,
            batch and image side (px).
        pretrain_images: Size of the generated classification train set.
        pretrain_val_images: Images in its validation set.
        iters_1x: The toy's "1x", in iterations at ``batch``.
        batch: Detection images per iteration.
        warmup: Linear warmup iterations of every detection run.
        val_per_1x: Validations per 1x of training.
        schedules: Schedule lengths (in 1x) to train, by init.
        less_data: Training images of the less-data pair (0: no pair).
        less_data_schedules: Its schedule length, by init.
        quick_eval: Keep every detection at evaluation (score_thr 0), for
            runs too short to score above the usual 0.05.
        data_in_out: Generate the data inside the output folder (the
            test's scale) instead of the shared ``data_root``.
        workers: Dataloader worker processes.
        prior_seconds: Guess of seconds per iteration (pre-training,
            detection) for the ETA until the first runs are measured.
    """
    num_train: int
    num_val: int
    data_root: str
    pretrain_iters: int
    pretrain_batch: int
    pretrain_size: int
    pretrain_images: int
    pretrain_val_images: int
    iters_1x: int
    batch: int
    warmup: int
    val_per_1x: int
    schedules: Dict[str, Tuple[int, ...]]
    less_data: int = 0
    less_data_schedules: Dict[str, int] = field(default_factory=dict)
    quick_eval: bool = False
    data_in_out: bool = False
    workers: int = 1
    prior_seconds: Tuple[float, float] = (0.5, 0.5)

    @property
    def val_interval(self) -> int:
        return max(1, self.iters_1x // self.val_per_1x)


SCALES = {
    # make study: about 30 minutes on 2 CPU cores (docs/study.md).
    'full': Scale(
        num_train=2000, num_val=200, data_root='data/synthetic_coco',
        pretrain_iters=1500, pretrain_batch=32, pretrain_size=32,
        pretrain_images=48000, pretrain_val_images=1000,
        iters_1x=200, batch=8, warmup=50, val_per_1x=2,
        schedules={'pretrained': (1, 2), 'scratch': (2, 4)},
        less_data=200, less_data_schedules={'pretrained': 1, 'scratch': 2},
        prior_seconds=(0.1, 0.55)),
    # The test's version: the same pipeline in a couple of minutes.
    'tiny': Scale(
        num_train=16, num_val=4, data_root='data/synthetic_coco',
        pretrain_iters=3, pretrain_batch=8, pretrain_size=32,
        pretrain_images=64, pretrain_val_images=16,
        iters_1x=4, batch=2, warmup=2, val_per_1x=1,
        schedules={'pretrained': (1,), 'scratch': (2,)},
        quick_eval=True, data_in_out=True, workers=0,
        prior_seconds=(1.0, 1.0)),
}


@dataclass
class Run:
    """One training run of the study.

    Attributes:
        name: Config stem, following the repository's naming rule.
        kind: ``'pretrain'`` or ``'detection'``.
        max_iters: Training length.
        config: ``OUT/configs/NAME.py``.
        work_dir: ``OUT/runs/NAME``.
        init: ``'scratch'`` or ``'pretrained'`` (detection runs).
        times: Schedule length in 1x (detection runs).
        train_images: Training images (detection runs).
    """
    name: str
    kind: str
    max_iters: int
    config: str
    work_dir: str
    init: Optional[str] = None
    times: Optional[int] = None
    train_images: Optional[int] = None

    @property
    def label(self) -> str:
        """Short legend, e.g. ``'scratch 4x'``."""
        if self.kind == 'pretrain':
            return 'pre-training'
        label = f'{INIT_LABELS[self.init]} {self.times}x'
        return label if self.train_images is None else (
            f'{label}, {self.train_images} images')


def _dataset_overrides(scale: Scale, data_root: str,
                       train_ann: Optional[str]) -> Dict[str, dict]:
    root = data_root.rstrip('/') + '/'
    loader = dict(num_workers=scale.workers,
                  persistent_workers=scale.workers > 0)
    train = dict(data_root=root)
    if train_ann is not None:
        train['ann_file'] = train_ann
    val = dict(data_root=root, ann_file='annotations/instances_val.json')
    return dict(
        train_dataloader=dict(batch_size=scale.batch, dataset=train,
                              **loader),
        val_dataloader=dict(dataset=val, **loader),
        test_dataloader=dict(dataset=val, **loader),
        val_evaluator=dict(ann_file=root + 'annotations/instances_val.json'),
        test_evaluator=dict(ann_file=root +
                            'annotations/instances_val.json'))


def detection_config(scale: Scale, init: str, times: int, data_root: str,
                     seed: int, train_ann: Optional[str] = None
                     ) -> Tuple[List[str], Dict[str, object]]:
    """Header comment lines and top-level keys of one detection run."""
    max_iters = times * scale.iters_1x
    drops = paper_drops_before_end(times, scale.iters_1x)
    comment = [
        f'Toy study: {INIT_LABELS[init]} toy Mask R-CNN, {times}x the toy '
        f'1x ({scale.iters_1x} iterations at batch {scale.batch}).',
        f'{max_iters} iterations; LR /10 {drops[0]} and {drops[1]} '
        'iterations before the end (' + (
            "the standard 1x's 2/3 and 8/9" if times == 1 else
            "the paper's last 60k and 20k of a 90k 1x") +
        f'): at {max_iters - drops[0]} and {max_iters - drops[1]}.']
    keys: Dict[str, object] = dict(
        train_cfg=dict(max_iters=max_iters,
                       val_interval=scale.val_interval),
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-3, by_epoch=False,
                 begin=0, end=scale.warmup),
            dict(type='DropBeforeEndLR', drops_before_end=drops, gamma=0.1,
                 by_epoch=False)],
        **_dataset_overrides(scale, data_root, train_ann),
        default_hooks=dict(
            checkpoint=dict(interval=scale.val_interval, max_keep_ckpts=2),
            logger=dict(interval=max(1, min(20, scale.val_interval // 2)))),
        randomness=dict(seed=seed, deterministic=True))
    if scale.quick_eval:
        keys['model'] = dict(test_cfg=dict(rcnn=dict(score_thr=0.0)))
    return comment, keys


def pretrain_config(scale: Scale, seed: int
                    ) -> Tuple[List[str], Dict[str, object]]:
    """Header comment lines and top-level keys of the pre-training run."""
    iters = scale.pretrain_iters
    size = scale.pretrain_size
    dataset = dict(size=size, object_size=(0.45 * size, 0.95 * size))
    warmup = max(1, iters // 15)
    loader = dict(num_workers=scale.workers,
                  persistent_workers=scale.workers > 0)
    comment = [
        f'Toy study: pre-training of the toy backbone, {iters} iterations '
        f'at batch {scale.pretrain_batch} on {size} px images.']
    keys: Dict[str, object] = dict(
        train_cfg=dict(max_iters=iters, val_interval=max(1, iters // 3)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-3, by_epoch=False,
                 begin=0, end=warmup),
            dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
                 gamma=0.1, by_epoch=False)],
        train_dataloader=dict(
            batch_size=scale.pretrain_batch, **loader,
            dataset=dict(num_images=scale.pretrain_images, **dataset)),
        val_dataloader=dict(**loader, dataset=dict(
            num_images=scale.pretrain_val_images, **dataset)),
        test_dataloader=dict(**loader, dataset=dict(
            num_images=scale.pretrain_val_images, **dataset)),
        default_hooks=dict(
            checkpoint=dict(interval=max(1, iters // 3), max_keep_ckpts=2),
            logger=dict(interval=max(1, min(50, iters // 6)))),
        randomness=dict(seed=seed, deterministic=True))
    return comment, keys


def write_config(path: str, base: str, comment: List[str],
                 keys: Dict[str, object]) -> None:
    """Writes a config that inherits ``base`` and sets ``keys``."""
    lines = ['# ' + line for line in comment]
    lines.append('# Written by tools/study.py; edits are overwritten.')
    lines.append(f'_base_ = {base!r}')
    lines += [f'{key} = {value!r}' for key, value in keys.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def detection_name(init: str, times: int,
                   train_images: Optional[int]) -> str:
    data = 'synthetic-coco' + (f'-{train_images}' if train_images else '')
    return f'mask-rcnn_r18-tiny-{init}_fpn_gn-all_study-{times}x_{data}'


def plan_runs(scale: Scale, out: str, data_root: str, seed: int,
              less_data: bool = True,
              subset_ann: Optional[str] = None) -> List[Run]:
    """Writes every run's config under ``out/configs`` and lists the runs,
    pre-training first, then the longest detection runs of each init side
    by side (so an interrupted study already has both curves)."""
    import os
    os.makedirs(osp.join(out, 'configs'), exist_ok=True)

    def run(name, kind, max_iters, **kwargs):
        return Run(name=name, kind=kind, max_iters=max_iters,
                   config=osp.join(out, 'configs', name + '.py'),
                   work_dir=osp.join(out, 'runs', name), **kwargs)

    name = (f'classifier_r18-tiny_gn_study-{scale.pretrain_iters}i_'
            'synthetic-shapes')
    runs = [run(name, 'pretrain', scale.pretrain_iters)]
    write_config(runs[0].config, osp.join(TOY_DIR, PRETRAIN_BASE),
                 *pretrain_config(scale, seed))
    pairs = [(init, times, None) for init in ('scratch', 'pretrained')
             for times in scale.schedules[init]]
    if less_data and scale.less_data:
        pairs += [(init, scale.less_data_schedules[init], scale.less_data)
                  for init in ('scratch', 'pretrained')]
    pairs.sort(key=lambda p: (p[2] is not None, -p[1], p[0]))
    for init, times, images in pairs:
        detection = run(detection_name(init, times, images), 'detection',
                        times * scale.iters_1x, init=init, times=times,
                        train_images=images)
        write_config(detection.config, osp.join(TOY_DIR,
                                                DETECTOR_BASES[init]),
                     *detection_config(scale, init, times, data_root, seed,
                                       subset_ann if images else None))
        runs.append(detection)
    return runs
