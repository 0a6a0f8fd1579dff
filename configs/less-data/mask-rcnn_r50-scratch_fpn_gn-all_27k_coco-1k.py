# Less data (He et al. 2019; docs/recipe.md claim 4), 1k images, scratch:
# R50-FPN GN Mask R-CNN from random init on a random 1k-image subset of
# COCO train2017, evaluated on all of val2017. Subset (seed 0; same-seed
# subsets are nested, 1k in 10k in 35k):
#   python tools/dataset_converters/coco_subset.py \
#       data/coco/annotations/instances_train2017.json 1000 --seed 0 \
#       --out data/coco/annotations/instances_train2017_1k.json
# Schedule, our choice (docs/recipe.md gives none for the subsets): pre-trained
# ~40 epochs of the subset, at least 9k iterations; scratch 3x that (full
# COCO: pre-trained best at 2-3x, scratch catches up at 5-6x). Passes over
# the same images, not iterations, drive overfitting: fewer images, fewer
# iterations. Sweep max_iters for each side's best, as Table 1 reports.
#   27k iterations (3 x 9k) x 16 = 432k images = 432 epochs of 1k; LR /10
#   at 18k and 24k: 1x's shape (a third and a ninth before the end). Long
#   enough to fit the 1k images, so a gap to pre-training is overfitting,
#   not under-training. Evaluated every 3k iterations.
_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_81k_coco-10k.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_1k.json'))

train_cfg = dict(max_iters=27000, val_interval=3000)
default_hooks = dict(checkpoint=dict(interval=3000))
