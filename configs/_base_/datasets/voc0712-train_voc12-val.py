# PASCAL VOC 07 trainval + 12 train, tested on 12 val (docs/configs.md).
_base_ = 'mmdet::_base_/datasets/voc0712.py'

dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'
backend_args = None
image_scale = (1333, 800)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    # After Resize: boxes stay in original image coordinates.
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
# Not the base's bbox_min_size=32: VOC's evaluation counts small boxes.
train_filter = dict(filter_empty_gt=True, min_size=32)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # VOC2007 and VOC2012 differ in metainfo['dataset_type'].
        ignore_keys=['dataset_type'],
        datasets=[
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file=f'VOC{year}/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root=f'VOC{year}/'),
                filter_cfg=train_filter,
                pipeline=train_pipeline,
                backend_args=backend_args)
            for year, split in (('2007', 'trainval'), ('2012', 'train'))
        ]))
val_dataloader = dict(
    dataset=dict(
        ann_file='VOC2012/ImageSets/Main/val.txt',
        data_prefix=dict(sub_data_root='VOC2012/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mAP at IoU 0.5, VOC2012's area under the curve (docs/configs.md).
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator
