"""What the toy study trains: its scales, its runs and their configs.

The study is the paper's main experiment at laptop scale (tools/study.py):
pre-train the toy backbone on a generated classification task (the stand-in
for ImageNet), then train the toy Faster R-CNN from scratch at 2x and 4x and
from that backbone at 1x and 4x (the paper's way: stem and stage 1 frozen,
GroupNorm training; a scale may add the ablation with nothing frozen), and
both again on a small subset of the training images, once per seed.

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
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.engine.schedulers import paper_drops_before_end
from rethink_mmdet.runner.configs import configs_root

TOY_DIR = osp.join(configs_root(), 'toy')
_PRETRAINED = ('faster-rcnn_r18-tiny-pretrained_fpn_gn-all_toy-1000i_'
               'synthetic-coco.py')
DETECTOR_BASES = {
    'scratch': 'faster-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1000i_'
               'synthetic-coco.py',
    'pretrained': _PRETRAINED,
    'pretrained-unfrozen': _PRETRAINED,
}
#: Keys an init sets over its base: the ablation trains the stem and stage
#: 1 too (the main pre-trained arm keeps them frozen, as the paper's
#: pre-trained rows do).
INIT_KEYS = {'pretrained-unfrozen': dict(backbone=dict(frozen_stages=-1))}
PRETRAIN_BASE = 'classifier_r18-tiny_gn_toy-12000i_synthetic-shapes.py'
#: The name the pre-trained detector config loads (``imagenet://NAME``); the
#: study writes ``OUT/pretrain/NAME.pth`` and sets $RETHINK_IMAGENET_DIR.
BACKBONE_NAME = 'toy-resnet18_gn_synthetic-shapes'
#: Iterations of the committed pre-training config (its name says so too).
PRETRAIN_ITERS = 12000
INIT_LABELS = {'scratch': 'scratch', 'pretrained': 'pre-trained',
               'pretrained-unfrozen': 'pre-trained, nothing frozen'}


@dataclass(frozen=True)
class Scale:
    """Sizes of one version of the study.

    Attributes:
        num_train, num_val: Synthetic COCO images per split.
        data_root: Where the synthetic COCO data go (relative paths are
            relative to the study's output folder when ``data_in_out``).
        object_size: Range of object diameters in the generated images,
            in pixels.
        pretrain_iters: Pre-training length (the base config's batch,
            image size and data unless ``pretrain_overrides``).
        pretrain_overrides: Train/val dataloader keys of a smaller
            pre-training (the test's scale).
        iters_1x: The toy's "1x", in iterations at ``batch``.
        batch: Detection images per iteration.
        warmup: Linear warmup iterations of every detection run.
        val_per_1x: Validations per 1x over the first half of a 1x, then
            one per 1x (4: one at the first quarter, which the
            convergence claim reads).
        schedules: Schedule lengths (in 1x) to train, by init.
        subsets: Less-data runs: ``(training images, schedules by init)``,
            smallest first.
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
    iters_1x: int
    batch: int
    warmup: int
    val_per_1x: int
    schedules: Dict[str, Tuple[int, ...]]
    subsets: Tuple[Tuple[int, Dict[str, Tuple[int, ...]]], ...] = ()
    pretrain_overrides: Dict[str, dict] = field(default_factory=dict)
    object_size: Tuple[float, float] = (14.0, 56.0)
    quick_eval: bool = False
    data_in_out: bool = False
    workers: int = 1
    prior_seconds: Tuple[float, float] = (0.5, 0.5)

    @property
    def val_interval(self) -> int:
        return max(1, self.iters_1x // self.val_per_1x)


SCALES = {
    # make study: two seeds in under 30 minutes on 2 CPU cores with the
    # shipped pre-training (docs/study.md).
    'full': Scale(
        num_train=2000, num_val=200, data_root='data/synthetic_coco_study',
        # Near the pre-training's object scale (28-56 px): the detector
        # learns faster than on the demo's 14-56 px (docs/study.md).
        object_size=(24.0, 56.0),
        pretrain_iters=PRETRAIN_ITERS, iters_1x=1000, batch=4, warmup=50,
        val_per_1x=4,
        # Pre-trained 4x: catching up at scratch's longest length; no 2x,
        # which two seeds in 30 minutes cannot hold (docs/study.md).
        schedules={'pretrained': (1, 4), 'scratch': (2, 4)},
        # 2.5% of the images: on 1% (20, as the paper's 1k of COCO's
        # 118k) scratch learned too little to overfit (docs/study.md).
        # Scratch 2x only: its validations show the peak and the drop.
        subsets=((50, {'pretrained': (1,), 'scratch': (2,)}),),
        prior_seconds=(0.25, 0.12)),
    # The test's version: the same pipeline in a couple of minutes, with
    # runs for every paragraph of the report.
    'tiny': Scale(
        num_train=16, num_val=4, data_root='data/synthetic_coco',
        pretrain_iters=3, iters_1x=4, batch=2, warmup=2, val_per_1x=4,
        schedules={'pretrained': (1, 2), 'scratch': (2,)},
        subsets=((8, {'pretrained': (1,), 'scratch': (1,)}),),
        pretrain_overrides=dict(
            train_dataloader=dict(batch_size=8,
                                  dataset=dict(num_images=64, size=32,
                                               object_size=(14, 30))),
            val_dataloader=dict(dataset=dict(num_images=16, size=32,
                                             object_size=(14, 30)))),
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
        init: A key of :data:`DETECTOR_BASES` (detection runs).
        times: Schedule length in 1x (detection runs).
        train_images: Training images of a less-data run (None: all).
        seed: Training seed.
    """
    name: str
    kind: str
    max_iters: int
    config: str
    work_dir: str
    init: Optional[str] = None
    times: Optional[int] = None
    train_images: Optional[int] = None
    seed: int = 0

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
        f'Toy study: {INIT_LABELS[init]} toy Faster R-CNN, {times}x the toy '
        f'1x ({scale.iters_1x} iterations at batch {scale.batch}).',
        f'{max_iters} iterations; LR /10 {drops[0]} and {drops[1]} '
        'iterations before the end (' + (
            "the standard 1x's 2/3 and 8/9" if times == 1 else
            "the paper's last 60k and 20k of a 90k 1x") +
        f'): at {max_iters - drops[0]} and {max_iters - drops[1]}.']
    # Validations at 1/4 and 1/2 of a 1x (the convergence claim reads the
    # first), then at every 1x: a validation costs as much as ~30 training
    # iterations. mmengine picks the interval for iteration i from milestone
    # i + 1 before it checks i, so the switch is at half + 2 to keep the
    # validation at half.
    half = max(1, scale.iters_1x // 2)
    keys: Dict[str, object] = dict(
        train_cfg=dict(max_iters=max_iters,
                       val_interval=scale.val_interval,
                       dynamic_intervals=[(half + 2, scale.iters_1x)]),
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-3, by_epoch=False,
                 begin=0, end=scale.warmup),
            dict(type='DropBeforeEndLR', drops_before_end=drops, gamma=0.1,
                 by_epoch=False)],
        **_dataset_overrides(scale, data_root, train_ann),
        default_hooks=dict(
            checkpoint=dict(interval=half, max_keep_ckpts=2),
            logger=dict(interval=max(1, min(50, scale.val_interval // 2)))),
        randomness=dict(seed=seed, deterministic=True))
    model = dict(INIT_KEYS.get(init, {}))
    if scale.quick_eval:
        model['test_cfg'] = dict(rcnn=dict(score_thr=0.0))
    if model:
        keys['model'] = model
    return comment, keys


def pretrain_config(scale: Scale, seed: int
                    ) -> Tuple[List[str], Dict[str, object]]:
    """Header comment lines and top-level keys of the pre-training run."""
    iters = scale.pretrain_iters
    loader = dict(num_workers=scale.workers,
                  persistent_workers=scale.workers > 0)
    overrides = scale.pretrain_overrides
    comment = [f'Toy study: pre-training of the toy backbone, {iters} '
               'iterations.']
    keys: Dict[str, object] = dict(
        train_cfg=dict(max_iters=iters, val_interval=max(1, iters // 8)),
        train_dataloader=dict(**loader,
                              **overrides.get('train_dataloader', {})),
        val_dataloader=dict(**loader, **overrides.get('val_dataloader', {})),
        default_hooks=dict(
            checkpoint=dict(interval=max(1, iters // 4), max_keep_ckpts=2),
            logger=dict(interval=max(1, min(50, iters // 6)))),
        randomness=dict(seed=seed, deterministic=True))
    if iters < 100:  # the base's 100-iteration warmup
        keys['param_scheduler'] = [
            dict(type='LinearLR', start_factor=1e-3, by_epoch=False,
                 begin=0, end=max(1, iters // 15)),
            dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
                 gamma=0.1, by_epoch=False)]
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


def detection_name(init: str, times: int, train_images: Optional[int],
                   seed: int) -> str:
    data = 'synthetic-coco' + (f'-{train_images}' if train_images else '')
    return (f'faster-rcnn_r18-tiny-{init}_fpn_gn-all_study-{times}x-s{seed}_'
            f'{data}')


def plan_runs(scale: Scale, out: str, data_root: str, seeds: Sequence[int],
              subset_anns: Optional[Dict[int, str]] = None,
              pretrain: bool = True) -> List[Run]:
    """Writes every run's config under ``out/configs`` and lists the runs:
    the pre-training (one, with the first seed), then each seed's detection
    runs, longest first (so an interrupted study already has every init's
    curve), the less-data runs last.

    Args:
        subset_anns: Annotation file of each less-data subset, by size;
            the scale's subsets without one get no runs.
        pretrain: Plan the pre-training (False: the fine-tunings use the
            shipped classifier, :mod:`.backbone`).
    """
    import os
    os.makedirs(osp.join(out, 'configs'), exist_ok=True)

    def run(name, kind, max_iters, **kwargs):
        return Run(name=name, kind=kind, max_iters=max_iters,
                   config=osp.join(out, 'configs', name + '.py'),
                   work_dir=osp.join(out, 'runs', name), **kwargs)

    runs = []
    if pretrain:
        name = (f'classifier_r18-tiny_gn_study-{scale.pretrain_iters}i_'
                'synthetic-shapes')
        runs.append(run(name, 'pretrain', scale.pretrain_iters,
                        seed=seeds[0]))
        write_config(runs[0].config, osp.join(TOY_DIR, PRETRAIN_BASE),
                     *pretrain_config(scale, seeds[0]))
    subset_anns = subset_anns or {}
    groups = [(None, scale.schedules)] + [
        (images, schedules) for images, schedules in scale.subsets
        if images in subset_anns]
    for seed in seeds:
        for images, schedules in groups:
            pairs = sorted(((init, times) for init in schedules
                            for times in schedules[init]),
                           key=lambda p: (-p[1], p[0]))
            for init, times in pairs:
                detection = run(
                    detection_name(init, times, images, seed), 'detection',
                    times * scale.iters_1x, init=init, times=times,
                    train_images=images, seed=seed)
                write_config(
                    detection.config,
                    osp.join(TOY_DIR, DETECTOR_BASES[init]),
                    *detection_config(scale, init, times, data_root, seed,
                                      subset_anns[images] if images
                                      else None))
                runs.append(detection)
    return runs
