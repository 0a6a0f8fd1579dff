"""``make gpu-check`` (tools/misc/gpu_check.py): the GPU path end to end.

mmcv's CUDA ops against the CPU ops, one AMP step in fp16 and in bf16,
AnySyncBN over NCCL against BN (2+ GPUs), then ITERS iterations of the
R50-FPN GN scratch row at 1333x800 on generated data through
tools/dist_train.sh on every visible GPU and tools/dist_test.sh on the
generated val images. Prints one line per piece; exits 1 at the first
failure, with one line saying what failed.

``--device cpu`` runs the same pieces on CPU processes (gloo, fp32 and
bf16 only: mmcv's CPU nms has no fp16), at ``--image-size``: the rehearsal
of ``make gpu-accept`` in the tests, never a GPU result.
"""
import argparse
import os
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
    parser.add_argument('--device', choices=('cuda', 'cpu'), default='cuda',
                        help='cpu: a rehearsal on CPU processes')
    parser.add_argument('--image-size', type=int, default=None,
                        help='square inputs of this side (default: 800 for '
                        'the AMP steps, 1333x800 for training)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import torch
    cuda = args.device == 'cuda'
    gpus = torch.cuda.device_count() if cuda else 1
    if gpus == 0:
        print(f'error: no GPU: torch {torch.__version__} (CUDA build: '
              f'{torch.version.cuda}) sees none; run make gpu-check on a '
              'GPU node (nvidia-smi, CUDA_VISIBLE_DEVICES, --gres)',
              file=sys.stderr)
        return 1
    from rethink_mmdet.acceptance import gpu_node
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    from rethink_mmdet.runner.configs import config_path
    config = args.config or config_path(ROW)
    start = time.time()

    def report(piece, line):
        print(f'[gpu-check] {piece}: {line} ({time.time() - start:.0f}s)',
              flush=True)

    step_size = args.image_size or 800
    scale = (step_size, ) * 2 if args.image_size else (1333, 800)
    launch_env = None if cuda else dict(os.environ, CPU_ONLY='1')
    try:
        report('ops', gpu_node.ops(args.device))
        for dtype in ('float16', 'bfloat16') if cuda else ('bfloat16', ):
            step = gpu_node.amp_step(config, args.device, dtype, step_size)
            report(f'AMP {dtype} step', f'loss {step["loss"]:.4f}, '
                   f'gradient norm {step["grad_norm"]:.4g}')
        if gpus >= 2:
            diff = gpu_node.sync_bn(gpus, args.device,
                                     osp.join(args.work_dir, 'sync_bn'))
            report('AnySyncBN', f'{gpus} NCCL processes = BN on the whole '
                   f'batch (max difference {diff:.2g})')
        else:
            report('AnySyncBN', f'skipped: one {args.device} process')
        data = osp.join(args.work_dir, 'data')
        make_synthetic_coco(data, num_train=2 * gpus * args.iters,
                            num_val=args.val_images, seed=0)
        figures = gpu_node.train_and_test(
            config, gpus, args.iters, scale, data,
            osp.join(args.work_dir, 'run'), env=launch_env)
    except gpu_node.GpuCheckError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    report('train', f'{figures["iters"]} iterations on {gpus} GPU(s), '
           f'{figures["s_per_iter"]:.3f} s/iter, '
           f'{figures["images_per_s"]:.1f} images/s, peak memory '
           f'{figures["peak_memory_mib"]:.0f} MiB, loss '
           f'{figures["loss_first"]:.3f} -> {figures["loss_last"]:.3f}')
    report('test', f'{args.val_images} images, box AP '
           f'{figures["bbox_mAP"]:.3f} (after {args.iters} iterations)')
    where = torch.cuda.get_device_name() if cuda else 'CPU (rehearsal)'
    print(f'[gpu-check] passed on {where} x {gpus}')
    return 0
