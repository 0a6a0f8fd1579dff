"""An image classifier around a detection backbone, for pre-training it.

The paper's pre-trained detectors start from a ResNet trained on ImageNet
classification: backbone, global average pooling, one linear layer. This is
that model for any backbone in MMDetection's registry, so the toy study can
pre-train exactly the backbone its detector uses, through mmengine's Runner,
and hand the detector an ImageNet-style checkpoint
(:func:`export_backbone`).

Shorthand: N images, C classes.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import CheckpointLoader


@MODELS.register_module()
class BackboneClassifier(BaseModel):
    """Backbone + global average pooling + linear layer.

    Args:
        backbone: Backbone config; its last output is pooled.
        num_classes: C.
        in_channels: Channels of the backbone's last output.
        data_preprocessor: Normalizes and stacks the images (e.g.
            ``dict(type='ImgDataPreprocessor', mean=..., std=...,
            bgr_to_rgb=True)``, as the detector's).
        init_cfg: Initialization of the whole model (the backbone's own
            ``init_cfg`` initializes the backbone).
    """

    def __init__(self, backbone: dict, num_classes: int, in_channels: int,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes must be at least 2, got '
                             f'{num_classes}')
        self.backbone = MODELS.build(backbone)
        self.fc = nn.Linear(in_channels, num_classes)
        # ResNet's own classifier init (torchvision): small normal, zero bias.
        nn.init.normal_(self.fc.weight, 0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) images -> (N, channels) pooled features."""
        features = self.backbone(inputs)
        if isinstance(features, (list, tuple)):
            features = features[-1]
        return F.adaptive_avg_pool2d(features, 1).flatten(1)

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[int]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict, List]:
        """``mode='tensor'``: (N, C) logits; ``'loss'``: cross-entropy and
        top-1 accuracy (needs the labels); ``'predict'``: one
        ``dict(pred_label, gt_label)`` per image (``gt_label`` -1 without
        labels)."""
        logits = self.fc(self.extract_feat(inputs))
        if mode == 'tensor':
            return logits
        labels = None
        if data_samples is not None:
            labels = torch.as_tensor(list(data_samples), dtype=torch.long,
                                     device=logits.device)
        if mode == 'loss':
            if labels is None:
                raise ValueError('mode="loss" needs the labels '
                                 '(data_samples)')
            return dict(loss_cls=F.cross_entropy(logits, labels),
                        acc=(logits.argmax(1) == labels).float().mean())
        if mode == 'predict':
            predictions = logits.argmax(1).tolist()
            truths = (labels.tolist() if labels is not None
                      else [-1] * len(predictions))
            return [dict(pred_label=p, gt_label=t)
                    for p, t in zip(predictions, truths)]
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got "
                         f'{mode!r}')


def export_backbone(checkpoint: str, out: str,
                    prefix: str = 'backbone.') -> int:
    """Writes the backbone of a classifier checkpoint as an ImageNet model.

    The ``imagenet`` init policy (``init_cfg=dict(type='Pretrained',
    checkpoint='imagenet://NAME')``) loads ``$RETHINK_IMAGENET_DIR/
    NAME.pth`` into the detector's backbone: a ``state_dict`` whose keys are
    the backbone's own (``conv1.weight``, ``gn1.weight``,
    ``layer1.0.conv1.weight``, ...), as in the public ImageNet models.

    Args:
        checkpoint: A Runner checkpoint of a :class:`BackboneClassifier`,
            read as data: the caller allows mmengine's training-state types
            (``engine.checkpointing.training_checkpoint_globals()``).
        out: The ``.pth`` file to write.
        prefix: The backbone's prefix in the classifier's ``state_dict``.

    Returns:
        The number of tensors written.
    """
    # Through mmengine's loader: read as data (a training checkpoint needs
    # the caller to allow mmengine's types, as tools/study.py does).
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    # float32, as the public models, whatever the checkpoint stores.
    backbone = {key[len(prefix):]: value.float()
                if value.is_floating_point() else value
                for key, value in state.items() if key.startswith(prefix)}
    if not backbone:
        raise ValueError(f'{checkpoint}: no {prefix!r} keys; is it a '
                         'BackboneClassifier checkpoint?')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    # Written then renamed: an interrupted export never leaves a file the
    # study would take for a finished pre-training.
    torch.save(dict(state_dict=backbone, meta=dict(source=checkpoint)),
               out + '.tmp')
    os.replace(out + '.tmp', out)
    return len(backbone)
