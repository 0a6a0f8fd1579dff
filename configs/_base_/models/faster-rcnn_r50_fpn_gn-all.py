# Faster R-CNN R50-FPN with GroupNorm(32) everywhere the paper puts a norm:
# mask-rcnn_r50_fpn_gn-all.py without the mask branch (same backbone, FPN,
# 4conv1fc box head, norm-free RPN head, scratch init, `imagenet_backbone`).
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(mask_roi_extractor=None, mask_head=None))
