"""``AnySyncBN`` against BatchNorm in a ResNet backbone, over several
processes (``tools/analysis_tools/benchmark_sync_bn.py``).

Each process (gloo on CPUs, NCCL with one GPU per process) holds the same
two backbones, mmdet's ``ResNet`` with ``norm_cfg`` BN and with AnySyncBN,
and times forward + backward of each in turn on its own random batch; a
barrier lines the ranks up before every step, so a step's time includes
waiting for the slowest rank, as in training. DDP's gradient all-reduce is
left out: it is the same for both. Rank 0's medians after warm-up are
reported.
"""
import os
import socket
import statistics
import time
from typing import Dict, List

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

NORMS = ('BN', 'AnySyncBN')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, opts: dict, queue) -> None:
    from mmdet.models.backbones import ResNet

    import rethink_mmdet  # noqa: F401  (registers AnySyncBN)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    cuda = opts['device'] == 'cuda'
    dist.init_process_group('nccl' if cuda else 'gloo', rank=rank,
                            world_size=world)
    device = torch.device(f'cuda:{rank}' if cuda else 'cpu')
    if cuda:
        torch.cuda.set_device(device)
    torch.set_num_threads(opts['threads'])
    torch.manual_seed(rank)
    nets = {norm: ResNet(opts['depth'], norm_eval=False,
                         norm_cfg=dict(type=norm, requires_grad=True)
                         ).to(device) for norm in NORMS}
    for net in nets.values():
        net.train()  # mmdet's ResNet.train() returns None: no chaining
    x = torch.randn(opts['batch_size'], 3, opts['input_size'],
                    opts['input_size'], device=device)
    times: Dict[str, List[float]] = {norm: [] for norm in NORMS}
    for step in range(opts['warmup'] + opts['iters']):
        for norm, net in nets.items():
            dist.barrier()
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            loss = sum(o.float().mean() for o in net(x))
            loss.backward()
            if cuda:
                torch.cuda.synchronize()
            if step >= opts['warmup']:
                times[norm].append(time.perf_counter() - start)
            net.zero_grad(set_to_none=True)
    if rank == 0:
        queue.put(times)
    dist.destroy_process_group()


def compare(world_size: int = 2, device: str = 'cpu', depth: int = 50,
            input_size: int = 128, batch_size: int = 2, threads: int = 1,
            warmup: int = 2, iters: int = 10) -> Dict[str, float]:
    """Runs the processes and returns the medians (seconds) and the ratio.

    Returns:
        ``{'BN': s, 'AnySyncBN': s, 'ratio': AnySyncBN / BN}``.
    """
    opts = dict(device=device, depth=depth, input_size=input_size,
                batch_size=batch_size, threads=threads, warmup=warmup,
                iters=iters)
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.spawn(_worker, args=(world_size, _free_port(), opts, queue),
             nprocs=world_size, join=True)
    times = queue.get()
    medians = {norm: statistics.median(times[norm]) for norm in NORMS}
    medians['ratio'] = medians['AnySyncBN'] / medians['BN']
    return medians
