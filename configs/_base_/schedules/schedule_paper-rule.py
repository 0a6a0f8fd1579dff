# The paper's optimizer and LR rule (docs/recipe.md, "Training recipe").
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=180000, val_interval=30000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    # LR /10 at the last 60k and the last 20k iterations, whatever the length.
    dict(type='DropBeforeEndLR', drops_before_end=(60000, 20000), gamma=0.1,
         by_epoch=False),
]

# 8 GPUs x 2 images; --auto-scale-lr rescales for another total batch.
auto_scale_lr = dict(enable=False, base_batch_size=16)
