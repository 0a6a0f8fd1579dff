import hashlib
import json
import os

import numpy as np
from pycocotools.coco import COCO

from rethink_mmdet.datasets.synthetic_coco import (
    CATEGORIES,
    make_synthetic_coco,
)


def _tree_digest(root):
    digest = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            digest.update(os.path.relpath(path, root).encode())
            with open(path, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def test_valid_coco(tiny_coco):
    image_ids, ann_ids = set(), set()
    for split in ('train', 'val'):
        coco = COCO(os.path.join(tiny_coco, 'annotations',
                                 f'instances_{split}.json'))
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(
            CATEGORIES)
        assert coco.getImgIds(), f'{split} has no images'
        for img in coco.loadImgs(coco.getImgIds()):
            assert img['id'] not in image_ids
            image_ids.add(img['id'])
            path = os.path.join(tiny_coco, img['file_name'])
            assert os.path.isfile(path)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
            assert anns, f'image {img["id"]} has no objects'
            for ann in anns:
                assert ann['id'] not in ann_ids
                ann_ids.add(ann['id'])
                x, y, w, h = ann['bbox']
                assert w > 0 and h > 0
                assert x >= 0 and y >= 0
                assert x + w <= img['width'] and y + h <= img['height']
                assert ann['iscrowd'] == 0
                mask = coco.annToMask(ann)
                ys, xs = np.nonzero(mask)
                # Rasterization moves edges by about a pixel and drops the
                # sub-pixel tip of a sharp vertex (stars, triangles).
                tolerance = 2.5
                assert abs(xs.min() - x) <= tolerance
                assert abs(ys.min() - y) <= tolerance
                assert abs(xs.max() + 1 - (x + w)) <= tolerance
                assert abs(ys.max() + 1 - (y + h)) <= tolerance
                perimeter = 2 * (w + h)
                assert abs(mask.sum() - ann['area']) <= perimeter
                assert ann['area'] <= w * h


def test_same_seed_same_dataset_other_seed_differs(tmp_path):
    digests = []
    for name, seed in (('a', 5), ('b', 5), ('c', 6)):
        make_synthetic_coco(str(tmp_path / name), num_train=4, num_val=2,
                            seed=seed)
        digests.append(_tree_digest(tmp_path / name))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_variety(tmp_path):
    make_synthetic_coco(str(tmp_path), num_train=60, num_val=1, seed=0)
    with open(tmp_path / 'annotations' / 'instances_train.json') as f:
        coco = json.load(f)
    categories = {a['category_id'] for a in coco['annotations']}
    assert categories == set(range(1, len(CATEGORIES) + 1))
    sides = [max(a['bbox'][2:]) for a in coco['annotations']]
    assert min(sides) < 20 and max(sides) > 40
    per_image = np.bincount([a['image_id'] for a in coco['annotations']])
    assert per_image.max() >= 4
    extensions = {img['file_name'].rsplit('.', 1)[1] for img in coco['images']}
    assert extensions == {'jpg', 'png'}


def test_mmdet_coco_dataset_reads_it(tiny_coco):
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules
    register_all_modules()
    dataset = CocoDataset(
        data_root=tiny_coco + '/',
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img=''),
        metainfo=dict(classes=CATEGORIES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs'),
        ])
    assert len(dataset) == 16
    sample = dataset[0]['data_samples']
    assert len(sample.gt_instances) > 0
    assert sample.gt_instances.masks.masks.shape[0] == len(
        sample.gt_instances)


def test_generator_draws_only_the_outlines_it_is_given():
    # The generic generator knows the six shapes; a variant passes its own
    # outlines (the keypoint module's house), never the reverse.
    import numpy as np

    from rethink_mmdet.datasets.synthetic_coco import (
        CATEGORIES,
        SHAPE_OUTLINES,
        _make_image,
    )
    from rethink_mmdet.datasets.synthetic_coco_keypoints import HOUSE_OUTLINE
    assert tuple(SHAPE_OUTLINES) == CATEGORIES
    _, objects = _make_image(np.random.default_rng(0), 96, 96, 20.0, 40.0,
                             4, outlines={'house': HOUSE_OUTLINE})
    assert objects and {o['category'] for o in objects} == {'house'}
    assert all(len(o['polygon']) == len(HOUSE_OUTLINE) for o in objects)
