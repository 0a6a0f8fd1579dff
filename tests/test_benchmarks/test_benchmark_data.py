"""The data-pipeline benchmark: generated COCO-like images and the tool
end to end on tiny settings (its timings are not checked here: figures
live in docs/benchmarks.md)."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.testing import config_path

OURS = config_path(
    'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')


def test_generated_images_look_like_coco(tmp_path):
    import pycocotools.mask as mask_utils
    from pycocotools.coco import COCO

    from rethink_mmdet.benchmarks import coco_images
    ann_file = coco_images.make_coco_images(str(tmp_path), 120,
                                            image_size=(160, 120), seed=2)
    coco = COCO(ann_file)
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(coco.getImgIds()) == 120
    assert 6.0 < len(anns) / 120 < 8.6  # Poisson, mean 7.3
    # COCO's size mix, thresholds scaled to the image (1/4 of COCO's side).
    scale = np.sqrt(160 * 120 / (640 * 480))
    areas = np.array([a['area'] for a in anns]) / scale**2
    small = np.mean(areas < 32**2)
    large = np.mean(areas >= 96**2)
    assert abs(small - coco_images.SIZE_MIX[0]) < 0.08, small
    assert abs(large - coco_images.SIZE_MIX[2]) < 0.08, large
    crowd = [a for a in anns if a['iscrowd']]
    polys = [a for a in anns if not a['iscrowd']]
    assert all(isinstance(a['segmentation'], list) and
               len(a['segmentation'][0]) >= 24 for a in polys)
    for ann in crowd:  # uncompressed RLE that pycocotools decodes
        assert isinstance(ann['segmentation']['counts'], list)
        assert mask_utils.decode(coco.annToRLE(ann)).sum() > 0
    img = coco.loadImgs(1)[0]
    assert (img['width'], img['height']) == (160, 120)
    assert osp.getsize(tmp_path / img['file_name']) > 1000


def test_generated_set_is_reused_and_seeded(tmp_path):
    from rethink_mmdet.benchmarks.coco_images import make_coco_images
    first = make_coco_images(str(tmp_path / 'a'), 3, (64, 48), seed=5)
    stamp = os.stat(first).st_mtime_ns
    assert make_coco_images(str(tmp_path / 'a'), 3, (64, 48), seed=5) == first
    assert os.stat(first).st_mtime_ns == stamp  # not written again
    other = make_coco_images(str(tmp_path / 'b'), 3, (64, 48), seed=5)
    with open(first) as f, open(other) as g:
        assert json.load(f) == json.load(g)
    for name in ('000000000001.jpg', '000000000003.jpg'):
        assert (tmp_path / 'a' / name).read_bytes() == \
            (tmp_path / 'b' / name).read_bytes()


@pytest.mark.slow
def test_benchmark_data_compares_with_stock(tmp_path, capsys):
    from rethink_mmdet.cli.benchmark_data import main
    rows = main([OURS, '--vs', '--workers', '2', '--num-images', '4',
                 '--image-size', '96', '64', '--rounds', '1', '--profile',
                 '--data-root', str(tmp_path)])
    out = capsys.readouterr().out
    assert 'ratio (first / second)' in out and '2 workers' in out
    assert 'LoadAnnotations' in out
    assert [r['config'] for r in rows][1].startswith('mmdet::')
    for row in rows:
        assert row['in_process'] > 0 and row[1]['images_s'] > 0
        assert row[2]['images_s'] > 0
        # A worker holds at least the Python interpreter and numpy.
        assert row['rss_mb'] > 10 and 0 < row['uss_mb'] <= row['rss_mb']
        assert row['profile']['total'] > 0


def test_benchmark_data_rejects_bad_input(tmp_path):
    from rethink_mmdet.cli.benchmark_data import main
    assert run_main(main, [str(tmp_path / 'missing.py')]) == 2
    assert run_main(main, [OURS, '--workers', '0']) == 2
    assert run_main(main, [OURS, '--image-size', '8', '8']) == 2
    keypoints = config_path(
        '_base_/datasets/synthetic-coco_keypoints.py')
    assert run_main(main, [keypoints, '--num-images', '1',
                           '--data-root', str(tmp_path)]) == 2
