"""COCO RLE of predicted masks from their occupied boxes.

``CocoMetric.process`` encodes each of a Mask R-CNN's 100 full-image mask
bitmaps per image with pycocotools (a Fortran-order copy and a scan of
every pixel per mask: ~30 M pixels per COCO image), while a mask occupies
only its box. Here the column-major runs are computed from the box crop
alone and compressed by pycocotools, so the strings are pycocotools' own
(``tests/test_evaluation/test_mask_rle.py`` checks equality).
"""
from typing import List

import numpy as np
import pycocotools.mask as mask_utils
import torch


def encode_masks(masks: torch.Tensor) -> List[dict]:
    """``mmdet.structures.mask.encode_mask_results`` of (N, H, W) masks.

    Args:
        masks: (N, H, W) bool (or 0/1) masks, any device.

    Returns:
        N compressed RLE dicts (``size`` [H, W], ``counts`` bytes).
    """
    array = masks.detach().cpu().bool().numpy()
    n, h, w = array.shape
    # (N, W): the occupied columns (numpy's ``any`` is ~10x torch's here).
    cols = array.any(1)
    encoded = []
    for i in range(n):
        xs = np.flatnonzero(cols[i])
        if xs.size == 0:
            counts = [h * w]
        else:
            x0, x1 = xs[0], xs[-1] + 1
            ys = np.flatnonzero(array[i, :, x0:x1].any(1))
            y0, y1 = ys[0], ys[-1] + 1
            # One zero row above and below each column of the crop, so
            # every run opens and closes inside its column.
            padded = np.zeros((x1 - x0, y1 - y0 + 2), np.int8)
            padded[:, 1:-1] = array[i, y0:y1, x0:x1].T
            col, row = np.nonzero(np.diff(padded, axis=1))
            starts = (x0 + col) * h + y0 + row  # column-major, sorted
            if y0 == 0 and y1 == h:
                # A run reaching a column's end goes on in the next column:
                # its close and reopen fall on one position; drop both.
                same = np.flatnonzero(starts[1:] == starts[:-1])
                starts = np.delete(starts, np.concatenate([same, same + 1]))
            counts = np.diff(np.concatenate([[0], starts, [h * w]])).tolist()
            if counts[-1] == 0:  # the last pixel is set: no closing zeros
                counts.pop()
        encoded.append(mask_utils.frPyObjects(
            dict(size=[h, w], counts=counts), h, w))
    return encoded
