"""A generated COCO evaluation problem: ground truth and detections.

It sizes the COCO metric benchmark (val2017: 5,000 images, ~7 instances
each; a detector keeps 100 detections per image) and gives the metric tests
small problems with the cases that matter for equality: crowd regions,
images without ground truth, images without detections.

Shapes: N images, G ground-truth instances and D detections per image.
Boxes are ``xyxy`` pixels; masks are compressed RLE dicts
(``{'size': [h, w], 'counts': bytes}``), as MMDetection's
``encode_mask_results`` gives them.
"""
import json
from typing import Dict, List, Tuple

import numpy as np
import pycocotools.mask as mask_utils
import torch

#: COCO's image size is ~640x480; one size keeps generation simple.
IMAGE_HW = (480, 640)


def _octagon(box: np.ndarray) -> List[float]:
    """A polygon inscribed in an ``xyxy`` box (flat x, y list)."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * 0.3, (y2 - y1) * 0.3
    return [x1 + dx, y1, x2 - dx, y1, x2, y1 + dy, x2, y2 - dy,
            x2 - dx, y2, x1 + dx, y2, x1, y2 - dy, x1, y1 + dy]


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 4) xyxy boxes of all COCO sizes (small, medium and large)."""
    h, w = IMAGE_HW
    side = np.exp(rng.uniform(np.log(4), np.log(400), (n, 2)))
    side = np.minimum(side, [w - 1, h - 1])
    x1 = rng.uniform(0, w - side[:, 0])
    y1 = rng.uniform(0, h - side[:, 1])
    return np.stack([x1, y1, x1 + side[:, 0], y1 + side[:, 1]], 1)


def make_problem(num_images: int, gt_per_image: float = 7.0,
                 dets_per_image: int = 100, num_classes: int = 80,
                 with_masks: bool = True, crowd_fraction: float = 0.01,
                 empty_fraction: float = 0.02,
                 seed: int = 0) -> Tuple[dict, List[dict]]:
    """Generates ground truth and the data samples a detector would give.

    A share of the images has no ground truth, another no detections. Most
    ground-truth instances have a noisy detection of their class, so the
    AP numbers are neither 0 nor 1; the other detections are random.

    Args:
        num_images: N.
        gt_per_image: Mean G (Poisson).
        dets_per_image: D, except for the images without detections.
        num_classes: Categories, ids 1..num_classes.
        with_masks: Add polygon masks to the ground truth (RLE for crowd
            regions) and RLE masks to the detections.
        crowd_fraction: Share of ground-truth instances marked ``iscrowd``.
        empty_fraction: Share of images without ground truth, and (drawn
            independently) share without detections.
        seed: Seed of the generator; same seed, same problem.

    Returns:
        ``(coco_json, data_samples)``: the ground truth as a COCO
        annotation dict, and one dict per image in the format
        ``CocoMetric.process`` reads (``img_id``, ``ori_shape``,
        ``pred_instances`` with tensors ``bboxes`` (D, 4), ``scores`` (D,),
        ``labels`` (D,) and, with masks, a list of D RLE ``masks``).
    """
    rng = np.random.default_rng(seed)
    h, w = IMAGE_HW
    images, annotations, samples = [], [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, width=w, height=h,
                           file_name=f'{img_id:012d}.jpg'))
        n_gt = (0 if rng.random() < empty_fraction else
                rng.poisson(gt_per_image))
        gt_boxes = _random_boxes(rng, n_gt)
        gt_labels = rng.integers(0, num_classes, n_gt)
        for box, label in zip(gt_boxes, gt_labels):
            crowd = int(rng.random() < crowd_fraction)
            ann = dict(id=len(annotations) + 1, image_id=img_id,
                       category_id=int(label) + 1, iscrowd=crowd,
                       bbox=[float(box[0]), float(box[1]),
                             float(box[2] - box[0]), float(box[3] - box[1])])
            if with_masks:
                poly = _octagon(box)
                if crowd:  # COCO's crowd regions are uncompressed RLE
                    rle = mask_utils.frPyObjects([poly], h, w)[0]
                    binary = mask_utils.decode(rle)
                    ann['segmentation'] = uncompressed_rle(binary)
                    ann['area'] = float(mask_utils.area(rle))
                else:
                    ann['segmentation'] = [[float(v) for v in poly]]
                    ann['area'] = float(mask_utils.area(
                        mask_utils.frPyObjects([poly], h, w)[0]))
            else:
                ann['area'] = ann['bbox'][2] * ann['bbox'][3]
            annotations.append(ann)
        n_det = 0 if rng.random() < empty_fraction else dets_per_image
        n_true = min(n_gt, n_det)
        # Detections of the ground truth: jittered by up to ~20% of the size.
        size = np.tile(gt_boxes[:n_true, 2:] - gt_boxes[:n_true, :2], 2)
        jitter = rng.normal(0, 0.08, (n_true, 4)) * size
        boxes = np.concatenate([gt_boxes[:n_true] + jitter,
                                _random_boxes(rng, n_det - n_true)])
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        labels = np.concatenate([gt_labels[:n_true],
                                 rng.integers(0, num_classes, n_det - n_true)])
        scores = np.concatenate([rng.uniform(0.3, 1, n_true),
                                 rng.uniform(0, 0.7, n_det - n_true)])
        pred = dict(bboxes=torch.from_numpy(boxes.astype(np.float32)),
                    scores=torch.from_numpy(scores.astype(np.float32)),
                    labels=torch.from_numpy(labels.astype(np.int64)))
        if with_masks:
            pred['masks'] = mask_utils.frPyObjects(
                [_octagon(b) for b in boxes], h, w) if n_det else []
        samples.append(dict(img_id=img_id, ori_shape=(h, w),
                            pred_instances=pred))
    categories = [dict(id=i + 1, name=f'class{i + 1}')
                  for i in range(num_classes)]
    return dict(images=images, annotations=annotations,
                categories=categories), samples


def uncompressed_rle(binary: np.ndarray) -> Dict[str, list]:
    """COCO's uncompressed RLE (column-major run lengths) of a mask."""
    flat = np.asfortranarray(binary).reshape(-1, order='F')
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:  # runs start with zeros
        counts = [0] + counts
    return dict(size=list(binary.shape), counts=counts)


def write_problem(coco_json: dict, path: str) -> None:
    """Writes the ground truth where ``CocoMetric(ann_file=...)`` reads it."""
    with open(path, 'w') as f:
        json.dump(coco_json, f)
