"""encode_masks gives pycocotools' own RLE strings."""
import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmdet.structures.mask import encode_mask_results

from rethink_mmdet.evaluation.metrics.mask_rle import encode_masks


def _masks(seed: int, h: int = 23, w: int = 17) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    masks = np.zeros((12, h, w), bool)
    for m in masks[:8]:  # random blobs in random boxes
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
        m[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.6
    masks[8] = True  # full image: runs cross every column boundary
    masks[9, :, 3:9] = True  # full-height columns
    masks[10, 0, 0] = masks[10, -1, -1] = True  # first and last pixel
    return torch.from_numpy(masks)  # masks[11]: empty


def test_encode_masks_equals_pycocotools():
    for seed in range(20):
        masks = _masks(seed)
        ours = encode_masks(masks)
        assert ours == encode_mask_results(masks.numpy())
        decoded = mask_utils.decode(ours).transpose(2, 0, 1)
        assert np.array_equal(decoded.astype(bool), masks.numpy())


def test_encode_masks_of_no_masks():
    assert encode_masks(torch.zeros(0, 5, 4, dtype=torch.bool)) == []
