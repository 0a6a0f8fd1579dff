# Test-time aug, box AP only: tools/test.py CONFIG CKPT --tta.
tta_model = dict(
    type='BoxTTAModel',
    tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale=(4000, short), keep_ratio=True)
              for short in range(400, 1201, 100)],
             [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip',
                                                     prob=0.)],
             [dict(type='LoadAnnotations', with_bbox=True)],
             [dict(type='PackDetInputs',
                   meta_keys=('img_id', 'img_path', 'ori_shape',
                              'img_shape', 'scale_factor', 'flip',
                              'flip_direction'))],
         ]),
]
