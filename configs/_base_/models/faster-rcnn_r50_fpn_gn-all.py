# Faster R-CNN R50-FPN GN: the GN Mask R-CNN base without masks.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(mask_roi_extractor=None, mask_head=None))
