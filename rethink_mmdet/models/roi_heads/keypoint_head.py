"""Mask R-CNN's keypoint head (He et al. 2017, Sec. 5; Detectron's
``KRCNNConvDeconvUpsampleHead``), which MMDetection 3.x does not have.

Shapes: R RoIs, K keypoints, C channels, S RoI feature size (14), M heatmap
size (56). Boxes are ``(x1, y1, x2, y2)`` and keypoints ``(x, y)`` in
continuous image coordinates of the network input.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor


def keypoints_to_heatmap_targets(keypoints: Tensor, boxes: Tensor,
                                 heatmap_size: int) -> Tuple[Tensor, Tensor]:
    """Encodes keypoints as the flat index of their heatmap cell in each box.

    The box is divided into ``M x M`` cells; a keypoint on the box's right
    or bottom edge belongs to the last cell (detectron2's rule).

    Args:
        keypoints: ``(R, K, 3)`` x, y, visibility.
        boxes: ``(R, 4)`` the RoIs the heatmaps cover.
        heatmap_size: M.

    Returns:
        ``(R, K)`` long cell indices ``y * M + x`` and ``(R, K)`` bool
        validity: labelled (visibility > 0) and inside the box.
    """
    x1, y1, x2, y2 = (boxes[:, i:i + 1] for i in range(4))
    x, y = keypoints[..., 0], keypoints[..., 1]
    scale_x = heatmap_size / (x2 - x1).clamp(min=1e-6)
    scale_y = heatmap_size / (y2 - y1).clamp(min=1e-6)
    cell_x = ((x - x1) * scale_x).floor().long()
    cell_y = ((y - y1) * scale_y).floor().long()
    cell_x[x == x2.expand_as(x)] = heatmap_size - 1
    cell_y[y == y2.expand_as(y)] = heatmap_size - 1
    inside = ((cell_x >= 0) & (cell_y >= 0) & (cell_x < heatmap_size)
              & (cell_y < heatmap_size))
    valid = inside & (keypoints[..., 2] > 0)
    targets = (cell_y * heatmap_size + cell_x) * valid
    return targets, valid


def heatmaps_to_keypoints(heatmaps: Tensor,
                          boxes: Tensor) -> Tuple[Tensor, Tensor]:
    """Decodes heatmap logits to the centre of each map's most likely cell.

    Args:
        heatmaps: ``(R, K, M, M)`` logits.
        boxes: ``(R, 4)`` the RoIs the heatmaps cover.

    Returns:
        ``(R, K, 2)`` keypoints and ``(R, K)`` scores, the softmax
        probability of the chosen cell.
    """
    num_rois, num_keypoints, size = heatmaps.shape[:3]
    flat = heatmaps.reshape(num_rois, num_keypoints, -1)
    probs = flat.softmax(dim=-1)
    scores, index = probs.max(dim=-1)
    cell_x, cell_y = index % size, torch.div(index, size,
                                             rounding_mode='floor')
    widths = (boxes[:, 2] - boxes[:, 0])[:, None]
    heights = (boxes[:, 3] - boxes[:, 1])[:, None]
    x = boxes[:, 0:1] + (cell_x.float() + 0.5) * widths / size
    y = boxes[:, 1:2] + (cell_y.float() + 0.5) * heights / size
    return torch.stack([x, y], dim=-1), scores


@MODELS.register_module()
class KeypointHead(BaseModule):
    """Keypoint heatmap head: ``num_convs`` 3x3 convs (with ``norm_cfg``),
    a 4x4 stride-2 deconvolution to K maps, then bilinear upsampling to M.

    With the defaults: 14x14 RoI features, 8 convs of 512 channels,
    deconvolution to 28x28, upsampling to 56x56 (Detectron's keypoint
    R-CNN). Trained with a spatial softmax cross-entropy: each labelled
    keypoint is a one-hot target over its map's M*M cells, averaged over the
    labelled keypoints of the batch.

    Args:
        num_keypoints: K.
        in_channels: Channels of the RoI features.
        roi_feat_size: S, side of the RoI features.
        num_convs: Number of 3x3 convs.
        conv_out_channels: Their channels.
        heatmap_size: M, side of the output heatmaps (a multiple of 2S).
        conv_cfg: Conv layer config.
        norm_cfg: Norm of the convs (GN in the paper's rows), or None.
        loss_weight: Weight of the keypoint loss.
        init_cfg: Init config; MSRA (Kaiming fan_out) convs and deconv.
    """

    def __init__(self,
                 num_keypoints: int = 17,
                 in_channels: int = 256,
                 roi_feat_size: int = 14,
                 num_convs: int = 8,
                 conv_out_channels: int = 512,
                 heatmap_size: int = 56,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 loss_weight: float = 1.0,
                 init_cfg: OptMultiConfig = dict(
                     type='Kaiming', layer=['Conv2d', 'ConvTranspose2d'],
                     mode='fan_out', nonlinearity='relu',
                     distribution='normal')) -> None:
        super().__init__(init_cfg=init_cfg)
        if heatmap_size % (2 * roi_feat_size):
            raise ValueError(
                f'KeypointHead: heatmap_size={heatmap_size} must be a '
                f'multiple of 2 x roi_feat_size={roi_feat_size} (the '
                f'deconvolution doubles the RoI features, then upsampling '
                f'by an integer factor)')
        self.num_keypoints = num_keypoints
        self.roi_feat_size = roi_feat_size
        self.heatmap_size = heatmap_size
        self.loss_weight = loss_weight
        self.convs = nn.Sequential(*[
            ConvModule(in_channels if i == 0 else conv_out_channels,
                       conv_out_channels, 3, padding=1, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg)
            for i in range(num_convs)])
        last_channels = conv_out_channels if num_convs else in_channels
        self.deconv = nn.ConvTranspose2d(last_channels, num_keypoints, 4,
                                         stride=2, padding=1)
        self.upsample_factor = heatmap_size // (2 * roi_feat_size)

    def forward(self, x: Tensor) -> Tensor:
        """``(R, C, S, S)`` RoI features -> ``(R, K, M, M)`` logits."""
        x = self.deconv(self.convs(x))
        if self.upsample_factor > 1:
            x = F.interpolate(x, scale_factor=self.upsample_factor,
                              mode='bilinear', align_corners=False)
        return x

    def get_targets(self, keypoints: Tensor,
                    boxes: Tensor) -> Tuple[Tensor, Tensor]:
        """See :func:`keypoints_to_heatmap_targets`."""
        return keypoints_to_heatmap_targets(keypoints, boxes,
                                            self.heatmap_size)

    def loss(self, heatmaps: Tensor, targets: Tensor,
             valid: Tensor) -> Tensor:
        """Spatial softmax cross-entropy over the valid keypoints.

        Args:
            heatmaps: ``(R, K, M, M)`` logits.
            targets: ``(R, K)`` cell indices.
            valid: ``(R, K)`` bool.

        Returns:
            The mean loss over valid keypoints; 0 (still connected to
            ``heatmaps``, so every parameter gets a gradient) when none is.
        """
        if not valid.any():
            return heatmaps.sum() * 0
        logits = heatmaps.flatten(2)[valid]
        return self.loss_weight * F.cross_entropy(logits, targets[valid])

    def predict(self, heatmaps: Tensor, boxes: Tensor,
                scale_factor: Optional[Tuple[float, float]] = None
                ) -> Tuple[Tensor, Tensor]:
        """Keypoints ``(R, K, 2)`` and scores ``(R, K)`` of the boxes the
        heatmaps were computed on, divided by ``scale_factor`` (w, h) when
        given (network input -> original image)."""
        keypoints, scores = heatmaps_to_keypoints(heatmaps, boxes)
        if scale_factor is not None:
            keypoints = keypoints / keypoints.new_tensor(scale_factor)
        return keypoints, scores
