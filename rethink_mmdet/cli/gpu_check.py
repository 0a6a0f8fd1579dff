"""``make gpu-check`` (tools/misc/gpu_check.py): the GPU path end to end.

mmcv's CUDA ops against the CPU ops, one AMP step in fp16 and in bf16,
AnySyncBN over NCCL against BN (2+ GPUs), then ITERS iterations of the
R50-FPN GN scratch row at 1333x800 on generated data through
tools/dist_train.sh on every visible GPU and tools/dist_test.sh on the
generated val images. Prints one line per piece; exits 1 at the first
failure, with one line saying what failed.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

ROW = 'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=None,
                        help=f'row config (default: configs/{ROW})')
    parser.add_argument('--iters', type=int, default=50)
    parser.add_argument('--val-images', type=int, default=50)
    parser.add_argument('--work-dir', default='work_dirs/gpu_check')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import torch
    gpus = torch.cuda.device_count()
    if gpus == 0:
        print(f'error: no GPU: torch {torch.__version__} (CUDA build: '
              f'{torch.version.cuda}) sees none; run make gpu-check on a '
              'GPU node (nvidia-smi, CUDA_VISIBLE_DEVICES, --gres)',
              file=sys.stderr)
        return 1
    from rethink_mmdet.benchmarks import gpu_check
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    from rethink_mmdet.runner.configs import config_path
    config = args.config or config_path(ROW)
    start = time.time()

    def report(piece, line):
        print(f'[gpu-check] {piece}: {line} ({time.time() - start:.0f}s)',
              flush=True)

    try:
        report('ops', gpu_check.ops('cuda'))
        for dtype in ('float16', 'bfloat16'):
            step = gpu_check.amp_step(config, 'cuda', dtype, 800)
            report(f'AMP {dtype} step', f'loss {step["loss"]:.4f}, '
                   f'gradient norm {step["grad_norm"]:.4g}')
        if gpus >= 2:
            diff = gpu_check.sync_bn(gpus, 'cuda',
                                     osp.join(args.work_dir, 'sync_bn'))
            report('AnySyncBN', f'{gpus} NCCL processes = BN on the whole '
                   f'batch (max difference {diff:.2g})')
        else:
            report('AnySyncBN', 'skipped: one GPU')
        data = osp.join(args.work_dir, 'data')
        make_synthetic_coco(data, num_train=2 * gpus * args.iters,
                            num_val=args.val_images, seed=0)
        figures = gpu_check.train_and_test(
            config, gpus, args.iters, (1333, 800), data,
            osp.join(args.work_dir, 'run'))
    except gpu_check.GpuCheckError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    report('train', f'{figures["iters"]} iterations on {gpus} GPU(s), '
           f'{figures["s_per_iter"]:.3f} s/iter, '
           f'{figures["images_per_s"]:.1f} images/s, peak memory '
           f'{figures["peak_memory_mib"]:.0f} MiB, loss '
           f'{figures["loss_first"]:.3f} -> {figures["loss_last"]:.3f}')
    report('test', f'{args.val_images} images, box AP '
           f'{figures["bbox_mAP"]:.3f} (after {args.iters} iterations)')
    print(f'[gpu-check] passed on {torch.cuda.get_device_name()} x {gpus}')
    return 0
