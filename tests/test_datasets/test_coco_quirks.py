"""COCO 2017's documented quirks (rethink_mmdet/testing/coco_quirks.py):
each one alone passes the data check with the warning it deserves, and a
dataset with all of them trains through tools/train.py with the check on."""
import shutil
import sys

import pytest

from rethink_mmdet.datasets.validation import (
    check_config_datasets,
    validate_config_datasets,
)
from rethink_mmdet.testing import (
    TOY_CONFIG,
    TOY_KEYPOINT_CONFIG,
    as_cli_options,
    run_tool,
    toy_overrides,
)
from rethink_mmdet.testing.coco_quirks import (
    KEYPOINT_QUIRKS,
    QUIRKS,
    with_quirks,
)


def _cfg(root, config=TOY_CONFIG):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(toy_overrides(str(root), 3, config=config))
    return cfg


def _copy(src, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(src, root)
    return root


def _assert_only_warning(cfg, baseline_cfg, expected):
    """No error; beyond the warnings of the unchanged data, if
    ``expected``, a warning of that kind, which names an id; else none."""
    problems = check_config_datasets(cfg)
    assert [str(p) for p in problems if p.severity == 'error'] == []
    before = {p.kind: p.count for p in check_config_datasets(baseline_cfg)}
    new = [p for p in problems if p.count > before.get(p.kind, 0)]
    if expected:
        [warning] = [p for p in new if expected in p.kind]
        assert 'image id' in warning.message
    else:
        assert new == []


@pytest.mark.parametrize('name', sorted(QUIRKS))
def test_each_instances_quirk_is_at_most_a_warning(name, tiny_coco,
                                                   tmp_path):
    root = _copy(tiny_coco, tmp_path)
    with_quirks(str(root), [name])
    _assert_only_warning(_cfg(root), _cfg(tiny_coco), QUIRKS[name].warning)


@pytest.mark.parametrize('name', sorted(KEYPOINT_QUIRKS))
def test_each_keypoint_quirk_is_at_most_a_warning(name, tiny_coco_keypoints,
                                                  tmp_path):
    root = _copy(tiny_coco_keypoints, tmp_path)
    with_quirks(str(root), [name], keypoints=True)
    _assert_only_warning(_cfg(root, TOY_KEYPOINT_CONFIG),
                         _cfg(tiny_coco_keypoints, TOY_KEYPOINT_CONFIG),
                         KEYPOINT_QUIRKS[name].warning)


def test_a_warning_counts_and_names_the_first_example(tiny_coco, tmp_path):
    root = _copy(tiny_coco, tmp_path)
    with_quirks(str(root), ['zero_height_box', 'subpixel_box'])
    [warning] = validate_config_datasets(_cfg(root))
    assert 'dropped by CocoDataset (2x; first: annotation id 1 (image id' \
        in str(warning)


@pytest.mark.parametrize('config, keypoints', [
    (TOY_CONFIG, False), (TOY_KEYPOINT_CONFIG, True)])
def test_all_quirks_train_with_the_check_on(config, keypoints, tiny_coco,
                                            tiny_coco_keypoints, tmp_path):
    root = _copy(tiny_coco_keypoints if keypoints else tiny_coco, tmp_path)
    with_quirks(str(root), sorted(KEYPOINT_QUIRKS if keypoints else QUIRKS),
                keypoints=keypoints)
    options = as_cli_options(toy_overrides(str(root), 3, config=config))
    checked = run_tool([sys.executable, 'tools/misc/check_dataset.py',
                        config, *options])
    assert '0 error(s)' in checked.stdout
    trained = run_tool([sys.executable, 'tools/train.py', config,
                        '--work-dir', str(tmp_path / 'work'), *options])
    assert 'data check: passed' in trained.stdout
    assert (tmp_path / 'work' / 'iter_3.pth').is_file()
