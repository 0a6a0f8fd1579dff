"""COCO person keypoints (``person_keypoints_*.json``) for MMDetection.

MMDetection 3.3's ``CocoDataset`` drops the ``keypoints`` of an annotation;
:class:`CocoKeypointDataset` keeps them on each instance (``K x 3``: x, y,
visibility) and puts the keypoint names and their flip partners in the
dataset's metainfo and in every sample (``keypoint_flip_indices``), so the
pipeline needs no keypoint list of its own.
"""
from typing import List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

#: COCO keypoints are pixel indices; continuous coordinates are 0.5 more
#: (detectron2's convention: the loader adds it, the metric subtracts it).
COCO_KEYPOINT_OFFSET = 0.5


def keypoint_flip_indices(names: Sequence[str]) -> List[int]:
    """For each keypoint, the index of its mirror image (``left_x`` <->
    ``right_x``; others map to themselves), as COCO's names imply.

    Raises:
        ValueError: when a ``left_``/``right_`` keypoint has no partner.
    """
    index = {name: i for i, name in enumerate(names)}
    flips = []
    for name in names:
        for side, other in (('left_', 'right_'), ('right_', 'left_')):
            if name.startswith(side):
                partner = other + name[len(side):]
                if partner not in index:
                    raise ValueError(
                        f'keypoint {name!r} has no {partner!r} to swap with '
                        f'under a flip (keypoints: {list(names)})')
                flips.append(index[partner])
                break
        else:
            flips.append(index[name])
    return flips


@DATASETS.register_module()
class CocoKeypointDataset(CocoDataset):
    """COCO with keypoints; by default the ``person`` class of
    ``person_keypoints_*.json``.

    Each instance gets ``keypoints``: float32 ``(K, 3)``, x and y as
    continuous image coordinates (COCO's pixel indices + 0.5, detectron2's
    convention) and the visibility (0 unlabelled, 1 labelled but hidden,
    2 visible); instances without keypoints get zeros.

    Args:
        min_keypoints_per_image: In training, images with fewer labelled
            keypoints (visibility > 0) are skipped (detectron2's
            ``MIN_KEYPOINTS_PER_IMAGE``, 1). 0 keeps every image.
        **kwargs: ``CocoDataset``'s arguments.
    """
    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])

    def __init__(self, *args, min_keypoints_per_image: int = 1, **kwargs):
        self.min_keypoints_per_image = min_keypoints_per_image
        super().__init__(*args, **kwargs)

    def _read_keypoint_names(self) -> List[str]:
        """Keypoint names of the selected categories (all must agree)."""
        names = None
        for cat in self.coco.load_cats(self.cat_ids):
            if 'keypoints' not in cat:
                raise ValueError(
                    f'{self.ann_file}: category {cat["name"]!r} has no '
                    f'"keypoints" list; expected a COCO keypoints file such '
                    f'as person_keypoints_val2017.json')
            if names is not None and cat['keypoints'] != names:
                raise ValueError(
                    f'{self.ann_file}: categories have different keypoints '
                    f'({names} vs {cat["keypoints"]}); expected one list')
            names = cat['keypoints']
        if names is None:
            raise ValueError(
                f'{self.ann_file}: none of the classes '
                f'{self.metainfo["classes"]} is a category of this file')
        self._metainfo['keypoint_names'] = tuple(names)
        self._metainfo['keypoint_flip_indices'] = keypoint_flip_indices(names)
        return names

    def _keeps(self, ann: dict, img_info: dict) -> bool:
        """Whether ``CocoDataset.parse_data_info`` keeps ``ann`` (its rule,
        restated so each kept instance finds its keypoints)."""
        if ann.get('ignore', False):
            return False
        x1, y1, w, h = ann['bbox']
        inter_w = max(0, min(x1 + w, img_info['width']) - max(x1, 0))
        inter_h = max(0, min(y1 + h, img_info['height']) - max(y1, 0))
        return (inter_w * inter_h > 0 and ann['area'] > 0 and w >= 1
                and h >= 1 and ann['category_id'] in self.cat_ids)

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        if 'keypoint_names' not in self._metainfo:
            self._read_keypoint_names()
        num_keypoints = len(self._metainfo['keypoint_names'])
        data_info = super().parse_data_info(raw_data_info)
        img_info = raw_data_info['raw_img_info']
        kept = [ann for ann in raw_data_info['raw_ann_info']
                if self._keeps(ann, img_info)]
        if len(kept) != len(data_info['instances']):
            raise RuntimeError(
                'CocoKeypointDataset no longer matches CocoDataset\'s '
                'annotation filter (mmdet changed?): cannot pair keypoints '
                f'with the instances of image {img_info["img_id"]}')
        for instance, ann in zip(data_info['instances'], kept):
            keypoints = np.zeros((num_keypoints, 3), dtype=np.float32)
            if ann.get('keypoints'):
                values = np.asarray(ann['keypoints'], dtype=np.float32)
                if values.size != num_keypoints * 3:
                    raise ValueError(
                        f'{self.ann_file}: annotation {ann["id"]} has '
                        f'{values.size} keypoint values; expected '
                        f'{num_keypoints} x 3 (x, y, visibility)')
                keypoints = values.reshape(num_keypoints, 3)
                labelled = keypoints[:, 2] > 0
                keypoints[labelled, :2] += COCO_KEYPOINT_OFFSET
                keypoints[~labelled] = 0
            instance['keypoints'] = keypoints
        return data_info

    def filter_data(self) -> List[dict]:
        data_list = super().filter_data()
        if self.test_mode or not self.min_keypoints_per_image:
            return data_list
        return [
            info for info in data_list
            if sum(int((inst['keypoints'][:, 2] > 0).sum())
                   for inst in info['instances'])
            >= self.min_keypoints_per_image]

    def get_data_info(self, idx: int) -> dict:
        data_info = super().get_data_info(idx)
        data_info['keypoint_flip_indices'] = list(
            self.metainfo['keypoint_flip_indices'])
        return data_info

    @property
    def num_keypoints(self) -> Optional[int]:
        names = self.metainfo.get('keypoint_names')
        return None if names is None else len(names)
