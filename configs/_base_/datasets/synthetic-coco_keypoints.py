# The synthetic houses (make_synthetic_coco.py --keypoints), 128x128.
_base_ = './coco_person-keypoints.py'

data_root = 'data/synthetic_coco_keypoints/'
metainfo = dict(classes=('house', ))
image_scale = (128, 128)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadKeypoints'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackKeypointDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/keypoints_train.json',
        data_prefix=dict(img=''),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/keypoints_val.json',
        data_prefix=dict(img=''),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='FasterCocoMetric',
         ann_file=data_root + 'annotations/keypoints_val.json',
         metric='bbox'),
    dict(type='CocoKeypointMetric',
         ann_file=data_root + 'annotations/keypoints_val.json',
         # OKS sigma 0.1 per keypoint (SYNTHETIC_SIGMA).
         sigmas=[0.1] * 5),
]
test_evaluator = val_evaluator
