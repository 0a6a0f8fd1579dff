"""The "no normalization" row: VGG-16 Faster R-CNN without norm layers."""
import math

import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.model.weight_init import initialize
from torch.nn.modules.batchnorm import _BatchNorm

import rethink_mmdet  # noqa: F401  (patches torch.load, registers modules)
from rethink_mmdet.models import PretrainedVGGFC, VGG16NoNorm
from rethink_mmdet.models.init_policies import LAST_LAYER_STD
from rethink_mmdet.testing import config_path

register_all_modules()

BASE = '_base_/models/faster-rcnn_vgg16_no-norm.py'
SCRATCH_ROW = 'no-norm/faster-rcnn_vgg16-scratch_11x_coco.py'
PRETRAINED_ROW = 'no-norm/faster-rcnn_vgg16-pretrained_3x_coco.py'
#: torchvision vgg16().features: the conv indices and their shapes (out, in).
TORCHVISION_CONVS = {
    0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128),
    12: (256, 256), 14: (256, 256), 17: (512, 256), 19: (512, 512),
    21: (512, 512), 24: (512, 512), 26: (512, 512), 28: (512, 512)}
_NORMS = (_BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d,
          nn.LocalResponseNorm)


def _assert_std(tensor, expected, what=''):
    # A sample std of n normal draws has a relative std of 1/sqrt(2n):
    # allow 4 of those.
    tolerance = 4 / math.sqrt(2 * tensor.numel())
    assert tensor.std().item() == pytest.approx(expected, rel=tolerance), what


@pytest.fixture(scope='module')
def detector():
    """The base config's detector, 3 classes, ScratchInit applied."""
    torch.manual_seed(0)
    cfg = Config.fromfile(config_path(BASE))
    cfg.model.roi_head.bbox_head.num_classes = 3
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _torchvision_vgg16_features(seed=1):
    """A random state dict in torchvision's vgg16 layout (features only,
    plus one unrelated classifier key a real checkpoint also has)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for index, (out_c, in_c) in TORCHVISION_CONVS.items():
        state[f'features.{index}.weight'] = torch.randn(
            out_c, in_c, 3, 3, generator=generator)
        state[f'features.{index}.bias'] = torch.randn(
            out_c, generator=generator)
    state['classifier.6.bias'] = torch.zeros(1000)
    return state


def test_backbone_output_shape_and_names():
    backbone = VGG16NoNorm()
    out = backbone(torch.rand(1, 3, 64, 64))
    assert isinstance(out, tuple) and len(out) == 1
    assert out[0].shape == (1, 512, 4, 4)
    convs = {name: tuple(p.shape[:2])
             for name, p in backbone.named_parameters()
             if name.endswith('.weight')}
    assert convs == {f'features.{i}.weight': s
                     for i, s in TORCHVISION_CONVS.items()}
    assert len(backbone.features) == 30  # torchvision's 31 minus pool5


def test_frozen_stages_freeze_conv1_conv2():
    backbone = VGG16NoNorm(frozen_stages=2)
    frozen = {n for n, p in backbone.named_parameters() if not p.requires_grad}
    assert frozen == {f'features.{i}.{a}' for i in (0, 2, 5, 7)
                      for a in ('weight', 'bias')}
    assert all(p.requires_grad for p in VGG16NoNorm().parameters())
    with pytest.raises(ValueError, match='frozen parameters'):
        initialize(VGG16NoNorm(frozen_stages=1), dict(type='ScratchInit'))


def test_detector_has_no_norm_layer(detector):
    assert not detector.with_neck
    norms = [n for n, m in detector.named_modules() if isinstance(m, _NORMS)]
    assert norms == []
    assert all(p.requires_grad for p in detector.parameters())
    bbox_head = detector.roi_head.bbox_head
    assert [fc.out_features for fc in bbox_head.shared_fcs] == [4096, 4096]
    assert bbox_head.shared_fcs[0].in_features == 512 * 7 * 7


def test_scratch_init_is_msra_fan_out(detector):
    convs = {name: m for name, m in detector.named_modules()
             if isinstance(m, nn.Conv2d)
             and name.rsplit('.', 1)[-1] not in LAST_LAYER_STD}
    assert sum(n.startswith('backbone') for n in convs) == 13
    assert 'rpn_head.rpn_conv' in convs
    for name, conv in convs.items():
        fan_out = conv.out_channels * conv.kernel_size[0] * \
            conv.kernel_size[1]
        _assert_std(conv.weight, math.sqrt(2 / fan_out), name)
        assert conv.bias.abs().max().item() == 0, name
    bbox_head = detector.roi_head.bbox_head
    _assert_std(bbox_head.fc_cls.weight, 0.01)
    _assert_std(bbox_head.fc_reg.weight, 0.001)
    _assert_std(detector.rpn_head.rpn_cls.weight, 0.01)
    fc6 = bbox_head.shared_fcs[0].weight  # Xavier uniform
    _assert_std(fc6, math.sqrt(2 / sum(fc6.shape)), 'fc6')


def test_pretrained_init_loads_torchvision_layout(tmp_path):
    state = _torchvision_vgg16_features()
    path = tmp_path / 'vgg16.pth'
    torch.save(state, path)
    backbone = MODELS.build(dict(
        type='VGG16NoNorm',
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    backbone.init_weights()
    loaded = backbone.state_dict()
    for key, value in loaded.items():
        assert torch.equal(value, state[key]), key


def test_pretrained_vgg_fc_loads_fc6_fc7(tmp_path):
    # A small head: in 2x2x2 = 8, fc width 16 (fc6 8 -> 16, fc7 16 -> 16).
    head = MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=2, roi_feat_size=2,
        fc_out_channels=16, num_classes=3))
    state = {'classifier.0.weight': torch.randn(16, 8),
             'classifier.0.bias': torch.randn(16),
             'classifier.3.weight': torch.randn(16, 16),
             'classifier.3.bias': torch.randn(16),
             'classifier.6.weight': torch.randn(1000, 16)}
    path = tmp_path / 'vgg16.pth'
    torch.save(state, path)
    PretrainedVGGFC(checkpoint=str(path))(head)
    assert torch.equal(head.shared_fcs[0].weight, state['classifier.0.weight'])
    assert torch.equal(head.shared_fcs[0].bias, state['classifier.0.bias'])
    assert torch.equal(head.shared_fcs[1].weight, state['classifier.3.weight'])
    assert torch.equal(head.shared_fcs[1].bias, state['classifier.3.bias'])
    wrong = MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=4, roi_feat_size=2,
        fc_out_channels=16, num_classes=3))
    with pytest.raises(ValueError, match='does not fit'):
        PretrainedVGGFC(checkpoint=str(path))(wrong)
    torch.save({'features.0.bias': torch.zeros(64)}, path)
    with pytest.raises(KeyError, match='classifier.0.weight'):
        PretrainedVGGFC(checkpoint=str(path))(head)


def test_row_configs():
    scratch = Config.fromfile(config_path(SCRATCH_ROW))
    assert scratch.model.backbone == dict(
        type='VGG16NoNorm', frozen_stages=-1,
        init_cfg=dict(type='ScratchInit'))
    assert scratch.train_cfg.max_iters == 990000
    pretrained = Config.fromfile(config_path(PRETRAINED_ROW))
    assert pretrained.model.backbone == dict(
        type='VGG16NoNorm', frozen_stages=2,
        init_cfg=dict(type='Pretrained', checkpoint='imagenet://vgg16'))
    assert pretrained.model.roi_head.bbox_head.init_cfg == dict(
        type='PretrainedVGGFC', checkpoint='imagenet://vgg16')
    assert pretrained.train_cfg.max_iters == 270000
    for cfg in (scratch, pretrained):
        assert cfg.model.neck is None
        assert cfg.optim_wrapper.optimizer.lr == 0.02


def test_pretrained_row_initializes_end_to_end(tmp_path):
    # The pretrained row's own init_cfgs, on a checkpoint file; a 2x2 RoI
    # and 16-wide fc6/fc7 keep the fake classifier small. Shows the box
    # head's PretrainedVGGFC runs after the RoI head's ScratchInit.
    state = _torchvision_vgg16_features()
    state.update({'classifier.0.weight': torch.randn(16, 512 * 2 * 2),
                  'classifier.0.bias': torch.randn(16),
                  'classifier.3.weight': torch.randn(16, 16),
                  'classifier.3.bias': torch.randn(16)})
    path = str(tmp_path / 'vgg16.pth')
    torch.save(state, path)
    cfg = Config.fromfile(config_path(PRETRAINED_ROW))
    cfg.merge_from_dict({
        'model.backbone.init_cfg.checkpoint': path,
        'model.roi_head.bbox_roi_extractor.roi_layer.output_size': 2,
        'model.roi_head.bbox_head.roi_feat_size': 2,
        'model.roi_head.bbox_head.fc_out_channels': 16,
        'model.roi_head.bbox_head.init_cfg.checkpoint': path})
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, state[key]), key
    shared_fcs = model.roi_head.bbox_head.shared_fcs
    assert torch.equal(shared_fcs[0].weight, state['classifier.0.weight'])
    assert torch.equal(shared_fcs[1].bias, state['classifier.3.bias'])
    _assert_std(model.roi_head.bbox_head.fc_cls.weight, 0.01)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {f'backbone.features.{i}.{a}' for i in (0, 2, 5, 7)
                      for a in ('weight', 'bias')}


def test_loss_forward_backward(detector):
    torch.manual_seed(0)
    detector.train()
    packed = demo_mm_inputs(2, [[3, 64, 64]] * 2, num_items=[2, 2],
                            num_classes=3)
    data = detector.data_preprocessor(packed, True)
    losses = detector(**data, mode='loss')
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
            'loss_bbox'} <= set(losses)
    total = 0
    for name, value in losses.items():
        if 'loss' in name:
            values = value if isinstance(value, list) else [value]
            for v in values:
                assert torch.isfinite(v).all(), name
                total = total + v.sum()
    detector.zero_grad()
    total.backward()
    grad = detector.backbone.features[0].weight.grad
    assert grad is not None and torch.isfinite(grad).all()
