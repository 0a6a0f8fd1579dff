"""Each dataset fault of issue 5 gives one error naming the file, the id,
what is wrong and what was expected."""
import json
import os
import shutil

import pytest
from mmengine.config import Config

from rethink_mmdet.datasets.synthetic_coco import CATEGORIES
from rethink_mmdet.datasets.validation import (
    DatasetError,
    check_coco_dataset,
    check_config_datasets,
    validate_config_datasets,
)
from rethink_mmdet.testing import TOY_CONFIG, toy_overrides


@pytest.fixture
def data(tmp_path, tiny_coco):
    root = tmp_path / 'data'
    shutil.copytree(tiny_coco, root)
    return root


def _ann(root):
    return str(root / 'annotations' / 'instances_train.json')


def _edit(root, change):
    with open(_ann(root)) as f:
        coco = json.load(f)
    change(coco)
    with open(_ann(root), 'w') as f:
        json.dump(coco, f)
    return coco


def _messages(root, classes=tuple(CATEGORIES), img_dir=None):
    return [str(p) for p in check_coco_dataset(
        _ann(root), str(img_dir or root), classes)]


def test_the_generated_data_has_no_problem(data):
    assert _messages(data) == []


def test_missing_annotation_file_and_image_folder(data):
    assert check_coco_dataset(str(data / 'nope.json'), str(data))[0] \
        .message == 'annotation file does not exist'
    problem = check_coco_dataset(_ann(data), str(data / 'no_images'))[0]
    assert problem.file.endswith('no_images')
    assert problem.message == 'image folder does not exist'


def test_malformed_json(data):
    with open(_ann(data), 'a') as f:
        f.write('}')
    [message] = _messages(data)
    assert message.startswith(_ann(data) + ': malformed JSON at line 1')


def test_not_a_coco_file(data):
    with open(_ann(data), 'w') as f:
        json.dump({'images': []}, f)
    [message] = _messages(data)
    assert "['annotations', 'categories']" in message


def test_image_listed_but_missing_on_disk(data):
    with open(_ann(data)) as f:
        image = json.load(f)['images'][2]
    os.remove(data / image['file_name'])
    [message] = _messages(data)
    assert f'image id {image["id"]}: ' in message
    assert 'images listed but missing on disk' in message


@pytest.mark.parametrize('bbox, severity, expected', [
    # What CocoDataset drops is a warning: COCO 2017 has such boxes.
    ([5, 5, 0, 10], 'warning', 'under one pixel wide or high, or of area 0, '
     'dropped by CocoDataset'),
    ([5, 5, 10, -2], 'warning', 'under one pixel wide or high'),
    ([200, 5, 30, 10], 'warning', 'no area inside their image, dropped'),
    ([100, 5, 60, 10], 'warning', 'reaching outside their image, kept'),
    ([5, 5, 10], 'error', 'bbox is not [x, y, w, h]'),
])
def test_boxes(data, bbox, severity, expected):
    coco = _edit(data, lambda c: c['annotations'][3].update(bbox=bbox))
    ann = coco['annotations'][3]
    [problem] = check_coco_dataset(_ann(data), str(data), tuple(CATEGORIES))
    assert problem.severity == severity
    assert f'annotation id {ann["id"]} (image id {ann["image_id"]})' \
        in problem.message
    assert expected in problem.message


def test_annotation_of_an_unknown_image_or_category(data):
    def change(coco):
        coco['annotations'][0]['image_id'] = 10 ** 6
        coco['annotations'][1]['category_id'] = 99
    _edit(data, change)
    messages = _messages(data)
    assert len(messages) == 2
    assert 'annotations of an image id not in "images"' in messages[0]
    assert 'category_id 99' in messages[1]


def test_duplicate_ids_are_errors(data):
    def change(coco):
        coco['annotations'][1]['id'] = coco['annotations'][0]['id']
        coco['images'][1]['id'] = coco['images'][0]['id']
    _edit(data, change)
    text = '\n'.join(_messages(data))
    assert 'image ids listed twice' in text
    assert 'annotation ids listed twice; CocoDataset asserts unique ids' \
        in text


def test_a_kept_annotation_without_segmentation_fails_mask_loading(data):
    from rethink_mmdet.datasets.data_problems import SplitOptions
    _edit(data, lambda c: c['annotations'][2].pop('segmentation'))
    assert _messages(data) == []  # boxes only: nothing reads it
    [problem] = check_coco_dataset(_ann(data), str(data), tuple(CATEGORIES),
                                   options=SplitOptions(with_mask=True))
    assert problem.severity == 'error'
    assert 'LoadAnnotations(with_mask=True) fails' in problem.message


def test_classes_that_the_file_does_not_have(data):
    classes = tuple(CATEGORIES[:-1]) + ('giraffe',)
    problems = check_coco_dataset(_ann(data), str(data), classes)
    errors = [p for p in problems if p.severity == 'error']
    assert len(errors) == 1
    assert "classes ['giraffe'] are not categories" in errors[0].message
    [warning] = [p for p in problems if p.severity == 'warning']
    assert f"category '{CATEGORIES[-1]}'" in warning.message


def test_empty_split(data):
    _edit(data, lambda c: c.update(images=[], annotations=[]))
    assert _messages(data) == [
        f'{_ann(data)}: the split is empty: no images']


def _toy_cfg(root, **extra):
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.merge_from_dict({**toy_overrides(str(root), 2), **extra})
    return cfg


def test_head_num_classes_must_match_the_classes(data):
    cfg = _toy_cfg(data, **{'model.roi_head.bbox_head.num_classes': 80})
    [problem] = check_config_datasets(cfg)
    assert problem.message == (
        f'model.roi_head.bbox_head.num_classes=80, but the train_dataloader '
        f'dataset has {len(CATEGORIES)} classes; expected equal')


def test_training_refuses_the_first_error_and_counts_the_rest(data):
    assert validate_config_datasets(_toy_cfg(data)) == []

    def change(coco):
        coco['annotations'][0]['image_id'] = 10 ** 6
        coco['annotations'][1]['category_id'] = 99
        coco['annotations'][2]['bbox'] = [0, 0, 0, 0]
    _edit(data, change)
    with pytest.raises(DatasetError, match=r'not in "images".*\(and 1 '
                       r'more problem\(s\): tools/misc/check_dataset.py'):
        validate_config_datasets(_toy_cfg(data))
