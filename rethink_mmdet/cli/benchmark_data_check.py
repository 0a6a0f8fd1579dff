"""``tools/analysis_tools/benchmark_data_check.py``: the data check vs
MMDetection's load of a train2017-sized annotation file."""
import argparse
import os.path as osp
import platform
import time
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generates a train2017-sized instances file (118,287 '
        'images, 860,001 polygon annotations, an empty file per image) and '
        'prints the wall time and peak memory of the data check beside '
        "those of mmdet's CocoDataset loading it (lazy_init=False), each "
        'in a fresh interpreter.')
    parser.add_argument('--root', default='/tmp/train2017_like',
                        help='where the generated file and images go '
                        '(reused when there; ~450 MB + 118k empty files)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs of each (the best is printed too)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> list:
    args = parse_args(argv)
    from rethink_mmdet.benchmarks.data_check_speed import (
        measure,
        write_train2017_like,
    )
    ann_file = osp.join(args.root, 'annotations', 'instances_train2017.json')
    img_dir = osp.join(args.root, 'train2017') + '/'
    if not osp.isfile(ann_file):
        started = time.perf_counter()
        from mmdet.datasets import CocoDataset
        write_train2017_like(args.root, CocoDataset.METAINFO['classes'])
        print(f'generated {ann_file} in {time.perf_counter() - started:.0f}'
              ' s', flush=True)
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    print(f'{ann_file}: {osp.getsize(ann_file) / 2**20:.0f} MiB; '
          f'{platform.node()}, {when}')
    rows = []
    for _ in range(args.repeat):
        for kind in ('check', 'load'):
            row = measure(kind, ann_file, img_dir)
            rows.append(row)
            print(f'{kind:5s}  {row["seconds"]:7.1f} s  peak RSS '
                  f'{row["peak_mb"]:7.0f} MiB (+{row["added_mb"]:.0f} over '
                  f'the imports)  result {row["result"]}', flush=True)
    best = {k: min(r['seconds'] for r in rows if r['kind'] == k)
            for k in ('check', 'load')}
    print(f'check / load wall time: {best["check"] / best["load"]:.2f}')
    return rows
