# Less data (He et al. 2019; docs/recipe.md claim 4), 10k images, scratch:
# R50-FPN GN Mask R-CNN from random init on a random 10k-image subset of
# COCO train2017, evaluated on all of val2017. Subset (seed 0; same-seed
# subsets are nested, 1k in 10k in 35k):
#   python tools/dataset_converters/coco_subset.py \
#       data/coco/annotations/instances_train2017.json 10000 --seed 0 \
#       --out data/coco/annotations/instances_train2017_10k.json
# Schedule, our choice (docs/recipe.md gives none for the subsets): pre-trained
# ~40 epochs of the subset, at least 9k iterations; scratch 3x that (full
# COCO: pre-trained best at 2-3x, scratch catches up at 5-6x). Passes over
# the same images, not iterations, drive overfitting: fewer images, fewer
# iterations. Sweep max_iters for each side's best, as Table 1 reports.
#   81k iterations (3 x 27k) x 16 = 1.3M images = 130 epochs of 10k; LR /10
#   at 54k and 72k: 1x's shape (a third and a ninth before the end; the
#   last-60k/20k rule would drop at 21k). Evaluated every 9k iterations.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_10k.json'))

train_cfg = dict(max_iters=81000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
