"""The pre-training pieces: generated classes, classifier, accuracy metric,
and the ImageNet-style checkpoint the detector's `imagenet` policy loads."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

from rethink_mmdet.datasets import CATEGORIES, SyntheticShapesClassification
from rethink_mmdet.datasets.synthetic_shapes import CLASSES, OUTLINES
from rethink_mmdet.evaluation import ClassificationAccuracy
from rethink_mmdet.models.classifier import export_backbone
from rethink_mmdet.toy.study_plan import (
    BACKBONE_NAME,
    DETECTOR_BASES,
    PRETRAIN_BASE,
    TOY_DIR,
)

register_all_modules()


def test_classes_are_disjoint_from_detection_and_deterministic():
    assert not set(CLASSES) & set(CATEGORIES)
    assert CLASSES == tuple(OUTLINES)
    a = SyntheticShapesClassification(10, seed=5, size=32,
                                      object_size=(12, 30))
    b = SyntheticShapesClassification(10, seed=5, size=32,
                                      object_size=(12, 30))
    c = SyntheticShapesClassification(10, seed=6, size=32,
                                      object_size=(12, 30))
    assert torch.equal(a[3]['inputs'], b[3]['inputs'])
    assert a[3]['inputs'].shape == (3, 32, 32)
    assert a[3]['inputs'].dtype == torch.uint8
    assert not torch.equal(a[3]['inputs'], c[3]['inputs'])
    labels = {SyntheticShapesClassification(200, seed=1)[i]['data_samples']
              for i in range(200)}
    assert len(labels) > len(CLASSES) // 2
    with pytest.raises(ValueError, match='object_size'):
        SyntheticShapesClassification(4, size=32, object_size=(10, 40))


def _classifier():
    cfg = Config.fromfile(osp.join(TOY_DIR, PRETRAIN_BASE))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model


def test_classifier_trains_on_a_batch_and_predicts():
    _, model = _classifier()
    dataset = SyntheticShapesClassification(8, seed=0, size=32,
                                            object_size=(12, 30))
    batch = [dataset[i] for i in range(8)]
    data = model.data_preprocessor(
        dict(inputs=[b['inputs'] for b in batch],
             data_samples=[b['data_samples'] for b in batch]), True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    losses = []
    for _ in range(8):
        loss = model(**data, mode='loss')
        optimizer.zero_grad()
        loss['loss_cls'].backward()
        optimizer.step()
        losses.append(loss['loss_cls'].item())
    assert losses[-1] < losses[0] / 2  # it can fit a batch
    predictions = model(**data, mode='predict')
    assert [p['gt_label'] for p in predictions] == data['data_samples']
    metric = ClassificationAccuracy()
    metric.process(None, predictions)
    expected = 100 * np.mean([p['pred_label'] == p['gt_label']
                              for p in predictions])
    assert metric.compute_metrics(metric.results) == dict(top1=expected)
    assert model(**data).shape == (8, len(CLASSES))


def test_exported_backbone_is_what_the_pretrained_detector_loads(
        tmp_path, monkeypatch):
    _, classifier = _classifier()
    checkpoint = tmp_path / 'iter_3.pth'
    torch.save(dict(state_dict=classifier.state_dict(), meta={}),
               checkpoint)
    count = export_backbone(str(checkpoint),
                            str(tmp_path / f'{BACKBONE_NAME}.pth'))
    assert count == len(classifier.backbone.state_dict())

    monkeypatch.setenv('RETHINK_IMAGENET_DIR', str(tmp_path))
    cfg = Config.fromfile(osp.join(TOY_DIR, DETECTOR_BASES['pretrained']))
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    loaded = detector.backbone.state_dict()
    assert loaded.keys() == classifier.backbone.state_dict().keys()
    for key, value in classifier.backbone.state_dict().items():
        assert torch.equal(loaded[key], value), key
    # Stem and stage 1 frozen, as the paper's pre-trained rows; the
    # GroupNorm layers of the other stages train.
    assert not detector.backbone.conv1.weight.requires_grad
    assert not detector.backbone.layer1[0].gn1.weight.requires_grad
    assert detector.backbone.layer2[0].conv1.weight.requires_grad
    assert detector.backbone.layer2[0].gn1.weight.requires_grad
    assert detector.backbone.layer4[1].gn2.bias.requires_grad


def test_export_refuses_a_checkpoint_without_a_backbone(tmp_path):
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}),
               tmp_path / 'x.pth')
    with pytest.raises(ValueError, match='backbone'):
        export_backbone(str(tmp_path / 'x.pth'), str(tmp_path / 'y.pth'))
