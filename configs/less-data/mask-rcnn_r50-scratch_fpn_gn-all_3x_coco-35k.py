# Less data (He et al. 2019; docs/recipe.md claim 4), 35k images, scratch:
# R50-FPN GN Mask R-CNN from random init on a random 35k-image subset of
# COCO train2017, evaluated on all of val2017. Subset (seed 0; same-seed
# subsets are nested, 1k in 10k in 35k):
#   python tools/dataset_converters/coco_subset.py \
#       data/coco/annotations/instances_train2017.json 35000 --seed 0 \
#       --out data/coco/annotations/instances_train2017_35k.json
# Schedule, our choice (docs/recipe.md gives none for the subsets): pre-trained
# ~40 epochs of the subset, at least 9k iterations; scratch 3x that (full
# COCO: pre-trained best at 2-3x, scratch catches up at 5-6x). Passes over
# the same images, not iterations, drive overfitting: fewer images, fewer
# iterations. Sweep max_iters for each side's best, as Table 1 reports.
#   3x: 270k iterations (3 x 90k) x 16 = 4.32M images = 123 epochs of 35k;
#   LR /10 at 210k and 250k, the last 60k and 20k (schedule_3x.py).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_35k.json'))
