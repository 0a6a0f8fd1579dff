# Paper: "Rethinking ImageNet Pre-training", training without BN/GN
# (docs/recipe.md, "No normalization"): Faster R-CNN VGG-16, no norm layer,
# ImageNet pre-trained: the baseline the 11x scratch row is compared with.
# Init: conv1_1-conv5_3 and fc6/fc7 from ImageNet VGG-16 (torchvision's,
# via imagenet://vgg16: $RETHINK_IMAGENET_DIR/vgg16.pth if set, else
# torchvision://vgg16); conv1-conv2 frozen, as the original Faster R-CNN
# (py-faster-rcnn, Detectron); RPN and box classifier/regressor random.
# Schedule: 3x = 3 x 90k = 270000 iterations at batch 16 (8 GPUs x 2),
# LR /10 at 210000 and 250000; lr 0.02 with 1000-iteration warmup.
_base_ = [
    '../_base_/models/faster-rcnn_vgg16_no-norm.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        frozen_stages=2,
        init_cfg=dict(_delete_=True, type='Pretrained',
                      checkpoint='imagenet://vgg16')),
    roi_head=dict(
        bbox_head=dict(
            init_cfg=dict(type='PretrainedVGGFC',
                          checkpoint='imagenet://vgg16'))))
