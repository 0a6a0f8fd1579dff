"""Random image subsets of a COCO annotation file, for the less-data rows.

He et al. (docs/recipe.md, "Less data") train on random subsets of
train2017 with 35k, 10k and 1k images. :func:`make_coco_subset` draws such a
subset reproducibly: the same file, size and seed always give the same
images and a byte-identical output, whatever order the input lists its
images in, because the draw is made over the *sorted* image ids. The subset
is the first N of one seeded permutation, so subsets drawn with the same
seed are nested (the 1k
images are among the 10k, which are among the 35k): comparisons across sizes
then measure the size, not which images were drawn. Every annotation of a
kept image is kept (crowd regions included, as in the full file), no other
annotation is, and the category list is copied whole so category ids and
class order do not change between the full set and its subsets.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np


def _load_coco(ann_file: str) -> Dict:
    """Reads ``ann_file``; raises with the file's name if it is not COCO."""
    if osp.isdir(ann_file):
        raise IsADirectoryError(f'annotation file {ann_file} is a folder, '
                                f'not a COCO JSON file')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    try:
        with open(ann_file, encoding='utf-8') as f:
            coco = json.load(f)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f'{ann_file} is not a JSON file: {e}') from None
    if not isinstance(coco, dict):
        raise ValueError(f'{ann_file} is not a COCO annotation file: its top '
                         f'level is a {type(coco).__name__}, not an object')
    missing = [k for k in ('images', 'annotations', 'categories')
               if not isinstance(coco.get(k), list)]
    if missing:
        raise ValueError(f'{ann_file} is not a COCO annotation file: no '
                         f'{", ".join(repr(k) for k in missing)} list')
    for key, fields in (('images', ('id',)),
                        ('annotations', ('id', 'image_id', 'category_id')),
                        ('categories', ('id', 'name'))):
        for index, entry in enumerate(coco[key]):
            if not isinstance(entry, dict) or any(f not in entry
                                                  for f in fields):
                raise ValueError(
                    f'{ann_file} is not a COCO annotation file: {key}[{index}]'
                    f' lacks one of the fields {", ".join(fields)}')
    image_ids = [img['id'] for img in coco['images']]
    if len(set(image_ids)) != len(image_ids):
        raise ValueError(f'{ann_file} is not a COCO annotation file: image '
                         f'ids are not unique')
    return coco


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def make_coco_subset(ann_file: str, num_images: int, seed: int,
                     out_file: str) -> Dict:
    """Writes a random subset of ``num_images`` images of a COCO file.

    The images are the first ``num_images`` of
    ``numpy.random.default_rng(seed).permutation`` of the image ids in
    ascending order, so the subset depends only on the set of ids,
    ``num_images`` and ``seed``, and a smaller subset with the same seed is
    part of a larger one (NumPy keeps ``Generator`` streams stable across
    versions only on a best-effort basis: keep the written file, not just the
    seed, with the results). The output lists images and annotations by
    ascending id, keeps every other top-level key of the input, and records
    the draw in ``info['subset']``.

    Args:
        ann_file: COCO instances JSON, e.g.
            ``data/coco/annotations/instances_train2017.json``.
        num_images: Images to keep, 1 to the number of images in the file.
        seed: Non-negative seed of the draw.
        out_file: Where to write the subset (its folder is created); must not
            be ``ann_file`` itself.

    Returns:
        A summary: ``num_images`` and ``num_instances`` kept,
        ``source_images`` (images in ``ann_file``),
        ``images_without_annotations`` among the kept images (MMDetection's
        ``filter_empty_gt`` drops them from training), and ``categories``,
        one dict per category in file order with ``id``, ``name``,
        ``images`` (kept images with at least one of its instances) and
        ``instances`` (its kept annotations, crowd regions included).

    Raises:
        FileNotFoundError: ``ann_file`` does not exist.
        IsADirectoryError: ``ann_file`` is a folder.
        OSError: ``out_file`` cannot be written.
        ValueError: ``ann_file`` is not COCO JSON; ``num_images`` is not
            positive or exceeds the images in the file; ``seed`` is negative;
            ``out_file`` is ``ann_file``.
    """
    if not _is_int(num_images) or num_images <= 0:
        raise ValueError(f'the number of images must be a positive integer, '
                         f'got {num_images!r}')
    if not _is_int(seed) or seed < 0:
        raise ValueError(f'the seed must be a non-negative integer, got '
                         f'{seed!r}')
    if (osp.isfile(ann_file) and osp.exists(out_file)
            and osp.samefile(ann_file, out_file)):
        raise ValueError(f'the output {out_file} is the input file itself; '
                         f'write the subset to another file')
    coco = _load_coco(ann_file)
    total = len(coco['images'])
    if num_images > total:
        raise ValueError(f'cannot draw {num_images} images from {ann_file}: '
                         f'it has only {total}')

    images = sorted(coco['images'], key=lambda img: img['id'])
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(total)[:int(num_images)])
    images = [images[i] for i in chosen]
    kept_ids = {img['id'] for img in images}
    annotations = sorted(
        (ann for ann in coco['annotations'] if ann['image_id'] in kept_ids),
        key=lambda ann: ann['id'])

    subset = dict(coco)
    info = coco.get('info')
    subset['info'] = dict(info) if isinstance(info, dict) else {}
    subset['info']['subset'] = dict(
        source_file=osp.basename(ann_file), source_images=total,
        num_images=int(num_images), seed=int(seed))
    subset['images'] = images
    subset['annotations'] = annotations

    # Through a temporary file, so an interrupted run leaves no partial subset.
    tmp_file = f'{out_file}.tmp{os.getpid()}'
    try:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        with open(tmp_file, 'w', encoding='utf-8') as f:
            json.dump(subset, f, separators=(',', ':'))
        os.replace(tmp_file, out_file)
    except OSError as e:
        raise OSError(f'cannot write the subset to {out_file}: '
                      f'{e.strerror or e}') from None
    finally:
        if osp.exists(tmp_file):
            os.remove(tmp_file)
    return summarize(subset, source_images=total)


def summarize(coco: Dict, source_images: int = None) -> Dict:
    """Per-category image and instance counts of a COCO dictionary.

    Args:
        coco: A loaded COCO annotation dict.
        source_images: Stored as ``source_images`` when given.

    Returns:
        The summary described in :func:`make_coco_subset`.
    """
    images_of: Dict[object, set] = {}
    instances_of: Dict[object, int] = {}
    annotated = set()
    for ann in coco['annotations']:
        images_of.setdefault(ann['category_id'], set()).add(ann['image_id'])
        instances_of[ann['category_id']] = instances_of.get(
            ann['category_id'], 0) + 1
        annotated.add(ann['image_id'])
    categories: List[Dict] = [
        dict(id=cat['id'], name=cat['name'],
             images=len(images_of.get(cat['id'], ())),
             instances=instances_of.get(cat['id'], 0))
        for cat in coco['categories']]
    image_ids = {img['id'] for img in coco['images']}
    summary = dict(
        num_images=len(coco['images']),
        num_instances=len(coco['annotations']),
        images_without_annotations=len(image_ids - annotated),
        categories=categories)
    if source_images is not None:
        summary['source_images'] = source_images
    return summary
