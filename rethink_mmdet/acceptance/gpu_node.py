"""The pieces of ``make gpu-check`` (tools/misc/gpu_check.py).

Each piece raises :class:`GpuCheckError` with one line on failure. They take
the device and sizes as arguments, so tests run them on CPU processes at toy
size; the command runs them on every visible GPU at full size.
"""
import glob
import json
import os
import os.path as osp
import socket
import statistics
import subprocess
import sys
from datetime import timedelta
from typing import Dict, List, Sequence

import torch

from rethink_mmdet.runner.launch import (
    Launched,
    TrainingRun,
    cfg_options,
    checkout_path,
    tool_path,
)


class GpuCheckError(Exception):
    """A piece of the GPU path failed; the message is one line."""


def ops(device: str) -> str:
    """mmcv's nms and RoIAlign on ``device`` against the CPU ops (the
    set-up's install/check_ops.py, in the checkout); returns its summary
    line."""
    check = checkout_path('install/check_ops.py')
    if check is None:
        raise GpuCheckError('the ops check (install/check_ops.py) runs from '
                            'a checkout of rethink-mmdet, not a wheel')
    result = subprocess.run([sys.executable, check, '--device', device],
                            capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ['(no output)']
        raise GpuCheckError(lines[-1].removeprefix('error: '))
    return result.stdout.strip()


def amp_step(config: str, device: str, dtype: str, image_size: int,
             batch_size: int = 2) -> Dict[str, float]:
    """One training step of ``config``'s model under autocast to ``dtype``
    (``float16`` with a gradient scaler, or ``bfloat16``) on random boxes
    and masks; the loss and every gradient must be finite.

    Returns:
        ``{'loss': float, 'grad_norm': float}``.
    """
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    from mmengine.config import Config

    from rethink_mmdet.runner import load_config
    cfg: Config = load_config(config, None)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    bbox_head = cfg.model.roi_head.bbox_head
    num_classes = (bbox_head[0] if isinstance(bbox_head, list) else
                   bbox_head).num_classes
    packed = demo_mm_inputs(batch_size, [[3, image_size, image_size]] *
                            batch_size, num_items=[3] * batch_size,
                            num_classes=num_classes, with_mask=True)
    data = model.data_preprocessor(packed, True)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    scaler = torch.amp.GradScaler(device, enabled=dtype == 'float16')
    try:
        with torch.autocast(device, dtype=getattr(torch, dtype)):
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
        scaler.scale(loss).backward()
    except RuntimeError as error:  # e.g. an mmcv op without this dtype
        first = str(error).strip().splitlines()[0]
        raise GpuCheckError(f'AMP {dtype} step on {device}: {first}')
    scaler.unscale_(optimizer)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
    if not (torch.isfinite(loss) and torch.isfinite(norm)):
        raise GpuCheckError(f'AMP {dtype} step on {device}: loss '
                            f'{loss.item()}, gradient norm {norm.item()}')
    scaler.step(optimizer)
    scaler.update()
    return {'loss': loss.item(), 'grad_norm': norm.item()}


def _sync_bn_worker(rank: int, world: int, port: int, device: str,
                    batch: torch.Tensor, weights: torch.Tensor, out: str):
    import torch.distributed as dist

    from rethink_mmdet.models.layers import AnySyncBatchNorm
    cuda = device == 'cuda'
    dist.init_process_group(
        'nccl' if cuda else 'gloo', init_method=f'tcp://127.0.0.1:{port}',
        rank=rank, world_size=world, timeout=timedelta(seconds=120))
    where = torch.device(f'cuda:{rank}' if cuda else 'cpu')
    if cuda:
        torch.cuda.set_device(where)
    part = batch.chunk(world)[rank].to(where).requires_grad_(True)
    layer = AnySyncBatchNorm(batch.shape[1]).to(where).train()
    y = layer(part)
    (y * weights.chunk(world)[rank].to(where)).sum().backward()
    torch.save({'y': y.detach().cpu(), 'x_grad': part.grad.cpu(),
                'w_grad': layer.weight.grad.cpu()}, f'{out}/rank{rank}.pth')
    dist.destroy_process_group()


def sync_bn(world: int, device: str, work_dir: str,
            shape: Sequence[int] = (8, 16, 24, 24)) -> float:
    """AnySyncBN over ``world`` processes (NCCL on GPUs, gloo on CPUs)
    against BatchNorm on the concatenated batch in one process.

    Returns:
        The largest absolute difference of outputs and gradients.
    """
    import torch.multiprocessing as mp
    gen = torch.Generator().manual_seed(0)
    batch = torch.randn(*shape, generator=gen) * 2 + 1
    weights = torch.randn(*shape, generator=gen)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    os.makedirs(work_dir, exist_ok=True)
    mp.spawn(_sync_bn_worker, args=(world, port, device, batch, weights,
                                    work_dir), nprocs=world)
    ranks = [torch.load(f'{work_dir}/rank{r}.pth') for r in range(world)]
    x = batch.clone().requires_grad_(True)
    bn = torch.nn.BatchNorm2d(shape[1]).train()
    y = bn(x)
    (y * weights).sum().backward()
    diff = max((torch.cat([r['y'] for r in ranks]) - y.detach()).abs().max(),
               (torch.cat([r['x_grad'] for r in ranks]) - x.grad).abs().max(),
               (sum(r['w_grad'] for r in ranks) - bn.weight.grad).abs().max())
    if diff > 1e-3:
        raise GpuCheckError(f'AnySyncBN over {world} {device} processes '
                            f'differs from BN by {diff:.3g}')
    return float(diff)


def train_and_test(config: str, nproc: int, iters: int, scale, data_root: str,
                   work_dir: str, batch_size: int = 2,
                   env: Dict[str, str] = None) -> Dict[str, float]:
    """``iters`` iterations of ``config`` on the synthetic data at
    ``scale`` through tools/dist_train.sh on ``nproc`` processes, then
    tools/dist_test.sh on the val split.

    Returns:
        s/iter (median after the first 5 iterations), images/s, peak memory
        (MiB, GPU only), mean loss of the first and last 5 iterations, box AP.
    """
    from rethink_mmdet.runner.synthetic_data import synthetic_data_overrides
    overrides = {**synthetic_data_overrides(config, data_root, scale),
                 'train_dataloader.batch_size': batch_size,
                 'train_cfg.max_iters': iters,
                 'train_cfg.val_interval': iters + 1,
                 # The paper-rule schedule (warmup, then DropBeforeEndLR)
                 # laid out over the short run.
                 'param_scheduler.0.end': max(2, iters // 5),
                 'param_scheduler.1.end': iters,
                 'param_scheduler.1.drops_before_end': [max(1, iters // 5)],
                 'default_hooks.checkpoint.interval': iters,
                 'default_hooks.logger.interval': 1,
                 'model.test_cfg.rcnn.score_thr': 0.0}
    log = osp.join(work_dir, 'gpu_check.log')
    os.makedirs(work_dir, exist_ok=True)
    run = TrainingRun(config, work_dir, iters, cfg_options(overrides),
                      nproc=nproc, env=env)
    with open(log, 'a') as f:
        code = Launched(run, f, resume=False).wait()
        if code != 0:
            raise GpuCheckError(f'tools/dist_train.sh exited {code} (log: '
                                f'{log})')
        code = subprocess.run(
            ['bash', tool_path('dist_test.sh'), config,
             osp.join(work_dir, f'iter_{iters}.pth'), str(nproc),
             '--work-dir', work_dir, *cfg_options(overrides)],
            stdout=f, stderr=f, env=run.environment()).returncode
    if code != 0:
        raise GpuCheckError(f'tools/dist_test.sh exited {code} (log: {log})')
    return summarize(work_dir, nproc * batch_size)


def _json_lines(paths: Sequence[str]):
    for path in paths:
        with open(path) as f:
            for line in f:
                yield json.loads(line)


def _scalars(work_dir: str) -> List[str]:
    return glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))


def training_records(work_dir: str) -> List[dict]:
    """The training records (those with a loss) the logger wrote into
    ``<stamp>/vis_data/scalars.json``, in the order of the runs."""
    return [r for r in _json_lines(sorted(_scalars(work_dir)))
            if 'loss' in r]


def summarize(work_dir: str, images_per_iter: int) -> Dict[str, float]:
    """Figures of a finished :func:`train_and_test` from the scalars the
    logger wrote (``*/vis_data/scalars.json``)."""
    train = training_records(work_dir)
    # Test metrics: the last in the scalars and <stamp>/<stamp>.json
    # (mmengine's LoggerHook).
    tests = [r for r in _json_lines(sorted(
        _scalars(work_dir) + glob.glob(osp.join(work_dir, '*', '*.json'))))
        if 'loss' not in r and 'coco/bbox_mAP' in r]
    test = tests[-1] if tests else {}
    if not train or not test:
        raise GpuCheckError(f'no training or test scalars under {work_dir}')
    losses = [r['loss'] for r in train]
    if not all(map(lambda x: x == x and abs(x) != float('inf'), losses)):
        raise GpuCheckError('non-finite training loss')
    times = [r['time'] for r in train[5:] or train]
    s_iter = statistics.median(times)
    memory = max((r.get('memory', 0) for r in train), default=0)
    return {'s_per_iter': s_iter, 'images_per_s': images_per_iter / s_iter,
            'peak_memory_mib': memory,
            'loss_first': statistics.mean(losses[:5]),
            'loss_last': statistics.mean(losses[-5:]),
            'iters': len(losses), 'bbox_mAP': test['coco/bbox_mAP']}
