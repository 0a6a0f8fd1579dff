# Toy study's detector (docs/study.md): scratch, 1000 iterations (its 1x).
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'
# The demo's toy without its mask head, with fewer proposals and RoIs.
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(mask_roi_extractor=None, mask_head=None),
    train_cfg=dict(rpn_proposal=dict(max_per_img=100),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(max_per_img=100)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FastPackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    # A small subset's loader ends every few iterations: on 20 images its
    # restarts cost 0.4 s per iteration (docs/study.md).
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator

# The paper's rule at a 1x of 1000 iterations: LR /10 at 2/3 and 8/9.
train_cfg = dict(max_iters=1000, val_interval=250)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=50),
    dict(type='DropBeforeEndLR', drops_before_end=(333, 111), gamma=0.1,
         by_epoch=False),
]
# LR 0.02 at batch 4: 0.01 and 0.04 learned no faster (docs/study.md).
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=250))
