import json
import os.path as osp
import subprocess
import sys
from collections import Counter

import pytest
from pycocotools.coco import COCO

from rethink_mmdet.datasets import make_coco_subset
from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
from rethink_mmdet.testing import REPO_ROOT

CLI = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'coco_subset.py')


@pytest.fixture(scope='module')
def train_json(tmp_path_factory):
    root = tmp_path_factory.mktemp('subset_source')
    return make_synthetic_coco(str(root), num_train=30, num_val=2,
                               seed=0)['train']


def _load(path):
    with open(path) as f:
        return json.load(f)


def _run_cli(*args):
    return subprocess.run([sys.executable, CLI, *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_same_seed_same_bytes_other_seed_differs(train_json, tmp_path):
    outs = {}
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        outs[name] = tmp_path / f'{name}.json'
        make_coco_subset(train_json, 10, seed, str(outs[name]))
    assert outs['a'].read_bytes() == outs['b'].read_bytes()
    ids = {name: [img['id'] for img in _load(path)['images']]
           for name, path in outs.items()}
    assert ids['a'] != ids['c']
    assert len(ids['a']) == len(set(ids['a'])) == 10
    assert ids['a'] == sorted(ids['a'])


def test_independent_of_input_image_order(train_json, tmp_path):
    coco = _load(train_json)
    coco['images'] = coco['images'][::-1]
    coco['annotations'] = coco['annotations'][::-1]
    shuffled = tmp_path / 'reversed.json'
    shuffled.write_text(json.dumps(coco))
    make_coco_subset(train_json, 7, 1, str(tmp_path / 'a.json'))
    make_coco_subset(str(shuffled), 7, 1, str(tmp_path / 'b.json'))
    # The info block names the source file; everything else is identical.
    a, b = _load(tmp_path / 'a.json'), _load(tmp_path / 'b.json')
    assert a['images'] == b['images']
    assert a['annotations'] == b['annotations']


def test_annotations_follow_their_images(train_json, tmp_path):
    source = _load(train_json)
    out = tmp_path / 'subset.json'
    summary = make_coco_subset(train_json, 12, 0, str(out))
    subset = _load(out)
    kept = {img['id'] for img in subset['images']}
    assert len(kept) == 12 == summary['num_images']
    assert all(ann['image_id'] in kept for ann in subset['annotations'])
    expected = [ann for ann in source['annotations']
                if ann['image_id'] in kept]
    assert sorted(subset['annotations'], key=lambda a: a['id']) == sorted(
        expected, key=lambda a: a['id'])
    assert subset['categories'] == source['categories']
    assert subset['info']['subset'] == dict(
        source_file='instances_train.json', source_images=30,
        num_images=12, seed=0)


def test_pycocotools_loads_output(train_json, tmp_path):
    out = tmp_path / 'subset.json'
    make_coco_subset(train_json, 5, 2, str(out))
    coco = COCO(str(out))
    assert len(coco.getImgIds()) == 5
    assert len(coco.getCatIds()) == 6
    for img_id in coco.getImgIds():
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img_id)):
            assert ann['image_id'] == img_id


def test_all_images(train_json, tmp_path):
    out = tmp_path / 'all.json'
    make_coco_subset(train_json, 30, 0, str(out))
    source, subset = _load(train_json), _load(out)
    assert subset['images'] == source['images']
    assert subset['annotations'] == source['annotations']


def test_cli_counts_match_file(train_json, tmp_path):
    out = tmp_path / 'sub' / 'subset.json'  # the folder is created
    result = _run_cli(train_json, 15, '--seed', 7, '--out', out)
    assert result.returncode == 0, result.stderr
    subset = _load(out)
    names = {cat['id']: cat['name'] for cat in subset['categories']}
    instances = Counter(names[a['category_id']]
                        for a in subset['annotations'])
    images = Counter(name for name, _ in {
        (names[a['category_id']], a['image_id'])
        for a in subset['annotations']})

    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.split()[:1] == ['category'])
    printed = {}
    for line in lines[header + 1:]:
        name, n_images, n_instances = line.rsplit(None, 2)
        printed[name] = (int(n_images), int(n_instances))
        if name == 'total':
            break
    assert printed.pop('total') == (15, len(subset['annotations']))
    assert printed == {name: (images[name], instances[name])
                       for name in names.values()}
    assert sum(n for n, _ in printed.values()) >= 15  # images with >1 class


@pytest.mark.parametrize('num_images', [31, 0, -2])
def test_bad_number_of_images(train_json, tmp_path, num_images):
    out = tmp_path / 'subset.json'
    result = _run_cli(train_json, num_images, '--out', out)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.startswith('error: ')
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(num_images) in result.stderr
    if num_images > 0:
        assert train_json in result.stderr and 'only 30' in result.stderr
    assert not out.exists()
    with pytest.raises(ValueError, match=str(num_images)):
        make_coco_subset(train_json, num_images, 0, str(out))


def test_missing_file(tmp_path):
    missing = tmp_path / 'nowhere' / 'instances.json'
    result = _run_cli(missing, 5, '--out', tmp_path / 'subset.json')
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'error: annotation file {missing} does not exist')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        make_coco_subset(str(missing), 5, 0, str(tmp_path / 'subset.json'))


@pytest.mark.parametrize('content,reason', [
    ('not json {', 'is not a JSON file'),
    ('[1, 2]', 'top level is a list'),
    ('{"images": [], "categories": []}', "no 'annotations' list"),
    ('{"images": [{"file_name": "a.jpg"}], "annotations": [], '
     '"categories": []}', 'images[0] lacks'),
])
def test_not_coco(tmp_path, content, reason):
    bad = tmp_path / 'bad.json'
    bad.write_text(content)
    with pytest.raises(ValueError, match='bad.json') as error:
        make_coco_subset(str(bad), 1, 0, str(tmp_path / 'subset.json'))
    assert reason in str(error.value)


def test_cli_not_coco(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('not json {')
    result = _run_cli(bad, 1, '--out', tmp_path / 'subset.json')
    assert result.returncode == 2
    assert result.stderr.startswith(f'error: {bad} is not a JSON file')
    assert 'Traceback' not in result.stderr


def test_refuses_to_overwrite_input(train_json):
    with pytest.raises(ValueError, match='input file itself'):
        make_coco_subset(train_json, 3, 0, train_json)
    assert len(_load(train_json)['images']) == 30


def test_same_seed_subsets_are_nested(train_json, tmp_path):
    ids = {}
    for size in (5, 12, 20):
        out = tmp_path / f'{size}.json'
        make_coco_subset(train_json, size, 9, str(out))
        ids[size] = {img['id'] for img in _load(out)['images']}
    assert ids[5] < ids[12] < ids[20]


def test_unwritable_output(train_json, tmp_path):
    (tmp_path / 'file').write_text('')
    out = tmp_path / 'file' / 'subset.json'
    result = _run_cli(train_json, 3, '--out', out)
    assert result.returncode == 2
    assert result.stderr.startswith(f'error: cannot write the subset to {out}')
