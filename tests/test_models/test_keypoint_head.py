"""KeypointHead, KeypointRoIHead: shapes, targets, decoding, no positives."""
import numpy as np
import pytest
import torch
from mmdet.datasets.transforms import RandomFlip, Resize
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData

from rethink_mmdet.datasets import PackKeypointDetInputs
from rethink_mmdet.models.roi_heads import (
    KeypointHead,
    heatmaps_to_keypoints,
    keypoints_to_heatmap_targets,
)

GN2 = dict(type='GN', num_groups=2, requires_grad=True)


def _tiny_head(**kwargs):
    args = dict(num_keypoints=3, in_channels=4, num_convs=2,
                conv_out_channels=4, norm_cfg=GN2)
    args.update(kwargs)
    head = KeypointHead(**args)
    head.init_weights()
    return head


def test_forward_backward_shapes():
    head = _tiny_head()
    heatmaps = head(torch.randn(5, 4, 14, 14))
    assert heatmaps.shape == (5, 3, 56, 56)
    boxes = torch.tensor([[0., 0., 28., 28.]]).repeat(5, 1)
    keypoints = torch.tensor([[[3., 4., 2.], [10., 20., 1.], [0., 0., 0.]]]
                             ).repeat(5, 1, 1)
    targets, valid = head.get_targets(keypoints, boxes)
    loss = head.loss(heatmaps, targets, valid)
    loss.backward()
    assert loss.item() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.parameters())
    # 8 convs with the config's norm, then deconvolution: the paper's head.
    full = KeypointHead(norm_cfg=dict(type='GN', num_groups=32))
    assert len(full.convs) == 8
    assert all(c.conv.out_channels == 512 and c.norm.num_groups == 32
               for c in full.convs)


def test_no_valid_keypoint_gives_zero_loss_that_still_reaches_the_head():
    head = _tiny_head()
    heatmaps = head(torch.randn(2, 4, 14, 14))
    valid = torch.zeros(2, 3, dtype=torch.bool)
    loss = head.loss(heatmaps, torch.zeros(2, 3, dtype=torch.long), valid)
    loss.backward()
    assert loss.item() == 0
    assert all(p.grad is not None for p in head.parameters())


def test_heatmap_size_must_fit_the_deconvolution():
    with pytest.raises(ValueError, match='heatmap_size=50'):
        KeypointHead(heatmap_size=50)


def test_known_keypoint_lands_on_its_cell():
    # A 112x56 px box: cells of 2x1 px on a 56x56 heatmap.
    boxes = torch.tensor([[10., 20., 122., 76.]])
    keypoints = torch.tensor([[[31.0, 40.5, 2],    # cell (10, 20)
                               [122.0, 76.0, 2],   # bottom-right edge
                               [9.0, 30.0, 2],     # left of the box
                               [50.0, 50.0, 0]]])  # unlabelled
    targets, valid = keypoints_to_heatmap_targets(keypoints, boxes, 56)
    assert targets[0, 0] == 20 * 56 + 10
    assert targets[0, 1] == 55 * 56 + 55
    assert valid.tolist() == [[True, True, False, False]]


def test_decode_of_encode_is_within_a_cell():
    generator = torch.Generator().manual_seed(0)
    x1y1 = torch.rand(20, 2, generator=generator) * 100
    wh = torch.rand(20, 2, generator=generator) * 200 + 5
    boxes = torch.cat([x1y1, x1y1 + wh], dim=1)
    points = x1y1[:, None] + torch.rand(20, 4, 2, generator=generator) * \
        wh[:, None]
    keypoints = torch.cat([points, torch.full((20, 4, 1), 2.)], dim=-1)
    targets, valid = keypoints_to_heatmap_targets(keypoints, boxes, 56)
    assert valid.all()
    heatmaps = torch.zeros(20, 4, 56 * 56)
    heatmaps.scatter_(2, targets[..., None], 10.0)
    decoded, scores = heatmaps_to_keypoints(heatmaps.view(20, 4, 56, 56),
                                            boxes)
    cell = wh / 56
    error = (decoded - points).abs()
    assert (error <= cell[:, None] / 2 + 1e-3).all()
    assert (scores > 0.5).all()


def _pipeline_results(width=100, height=60):
    # Keypoint 0 ('left_x') and 1 ('right_x') of one object, 2 ('nose')
    # in the middle; flip partners from the names: [1, 0, 2].
    return dict(
        img=np.zeros((height, width, 3), np.uint8), img_shape=(height, width),
        ori_shape=(height, width),
        gt_bboxes=HorizontalBoxes(torch.tensor([[20., 10., 76., 50.]])),
        gt_bboxes_labels=np.array([0]), gt_ignore_flags=np.array([False]),
        gt_keypoints=np.array([[[30.5, 20.5, 2], [60.5, 40.5, 2],
                                [45.5, 30.5, 1]]], np.float32),
        keypoint_flip_indices=[1, 0, 2])


def test_flip_moves_the_target_to_the_swapped_keypoints_mirrored_cell():
    before = _pipeline_results()
    box = torch.tensor([[20., 10., 76., 50.]])
    cells_before, _ = keypoints_to_heatmap_targets(
        torch.from_numpy(before['gt_keypoints']), box, 56)
    packed = PackKeypointDetInputs().transform(
        RandomFlip(prob=1.0).transform(_pipeline_results()))
    gt = packed['data_samples'].gt_instances
    cells_after, valid = keypoints_to_heatmap_targets(
        gt.keypoints, gt.bboxes.tensor, 56)
    assert valid.all()
    for k, partner in enumerate([1, 0, 2]):
        y, x = divmod(int(cells_before[0, partner]), 56)
        assert int(cells_after[0, k]) == y * 56 + (55 - x), k
    # The keypoint itself is mirrored: x -> width - x.
    assert gt.keypoints[0, 1, 0].item() == pytest.approx(100 - 30.5)
    assert gt.keypoints[0, :, 2].tolist() == [2, 2, 1]


def test_resize_then_flip_keep_keypoints_on_the_image():
    results = Resize(scale=(200, 120), keep_ratio=True).transform(
        _pipeline_results())
    results = RandomFlip(prob=1.0).transform(results)
    gt = PackKeypointDetInputs().transform(results)[
        'data_samples'].gt_instances
    # 2x resize, then mirrored in the 200 px wide image, partners swapped.
    expected = [[200 - 2 * 60.5, 2 * 40.5], [200 - 2 * 30.5, 2 * 20.5],
                [200 - 2 * 45.5, 2 * 30.5]]
    assert torch.allclose(gt.keypoints[0, :, :2], torch.tensor(expected))
    assert torch.allclose(gt.bboxes.tensor,
                          torch.tensor([[200 - 152., 20., 200 - 40., 100.]]))


def test_packing_rejects_keypoints_that_lost_their_boxes():
    results = _pipeline_results()
    results['gt_keypoints'] = np.zeros((2, 3, 3), np.float32)
    with pytest.raises(ValueError, match='2 instances have keypoints'):
        PackKeypointDetInputs().transform(results)


def _toy_detector():
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from rethink_mmdet.testing import TOY_KEYPOINT_CONFIG
    init_default_scope('mmdet')
    cfg = Config.fromfile(TOY_KEYPOINT_CONFIG)
    cfg.model.backbone.base_channels = 8
    cfg.model.neck.in_channels = [8, 16, 32, 64]
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _samples(visibility):
    samples = []
    for i in range(2):
        sample = DetDataSample(metainfo=dict(
            img_shape=(64, 64), ori_shape=(32, 32), scale_factor=(2., 2.),
            pad_shape=(64, 64), batch_input_shape=(64, 64)))
        keypoints = torch.tensor([[[20., 12., 2], [10., 30., 2],
                                   [30., 30., 2], [12., 50., 2],
                                   [28., 50., 2]]])
        keypoints[..., 2] = visibility
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 10., 32., 52.]]) + 8 * i,
            labels=torch.tensor([0]),
            keypoints=keypoints + torch.tensor([8. * i, 8. * i, 0.]))
        sample.ignored_instances = InstanceData(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long())
        samples.append(sample)
    return samples


@pytest.mark.parametrize('visibility', [2, 0])
def test_roi_head_trains_with_and_without_labelled_keypoints(visibility):
    model = _toy_detector()
    inputs = torch.randn(2, 3, 64, 64)
    losses = model.loss(inputs, _samples(visibility))
    assert 'loss_keypoint' in losses
    if visibility == 0:  # no positive RoI has a keypoint: 0, connected
        assert losses['loss_keypoint'].item() == 0
    else:  # about log(56 * 56) at random init
        assert 5 < losses['loss_keypoint'].item() < 12
    loss, _ = model.parse_losses(losses)
    loss.backward()
    head = model.roi_head.keypoint_head
    assert all(p.grad is not None for p in head.parameters())
    if visibility:
        assert head.deconv.weight.grad.abs().sum() > 0


def test_roi_head_predicts_keypoints_in_the_original_image():
    model = _toy_detector().eval()
    model.test_cfg.rcnn.score_thr = 0.0
    with torch.no_grad():
        results = model.predict(torch.randn(2, 3, 64, 64), _samples(2))
    for result in results:
        pred = result.pred_instances
        assert len(pred) > 0
        assert pred.keypoints.shape == (len(pred), 5, 2)
        assert pred.keypoint_scores.shape == (len(pred), 5)
        # Rescaled with the boxes: each keypoint inside its (original) box.
        boxes = pred.bboxes
        assert (pred.keypoints[..., 0] >= boxes[:, None, 0] - 1e-4).all()
        assert (pred.keypoints[..., 0] <= boxes[:, None, 2] + 1e-4).all()
        assert boxes.max() <= 32 + 1e-4
