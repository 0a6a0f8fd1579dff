"""AnySyncBN equals BatchNorm over the concatenated batch, on CPU with gloo.

All distributed cases run in one 2-process gloo group (a spawn costs seconds
of imports), each rank saving its results; the tests compare them with
``nn.BatchNorm`` on the whole batch in the parent process.
"""
import socket
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.registry import DefaultScope
from torch.nn.modules.batchnorm import _BatchNorm

from rethink_mmdet.models.layers import AnySyncBatchNorm

WORLD = 2
# float32 BatchNorm vs. per-rank float32 stats merged in float64: ~1e-6.
TOL = dict(rtol=1e-5, atol=1e-5)

# name: (samples per rank, (C, *spatial), BN kwargs, steps, mean offset)
CASES = {
    'even_4d': ((3, 3), (4, 5, 5), {}, 1, 0.),
    'uneven_4d': ((5, 1), (4, 3, 3), {}, 1, 0.),
    'empty_rank_4d': ((4, 0), (4, 3, 3), {}, 2, 0.),
    'empty_rank0_2d': ((0, 6), (5, ), {}, 1, 0.),
    'uneven_2d': ((6, 3), (5, ), {}, 1, 0.),
    'all_empty': ((0, 0), (4, 3, 3), {}, 1, 0.),
    'cumulative_no_affine': ((2, 3), (4, 3, 3),
                             dict(momentum=None, affine=False), 3, 0.),
    # |mean| >> std, where E[x^2] - E[x]^2 in float32 would lose digits.
    'offset_mean': ((3, 2), (4, 6, 6), {}, 1, 50.),
    'input_no_grad': ((3, 2), (4, 3, 3), {}, 1, 0.),
}
# Only weight and bias need grads: backward skips its collective everywhere.
NO_INPUT_GRAD = {'input_no_grad'}


def _case_data(name, step):
    """The full batch, loss weights and layer state of one case and step."""
    counts, shape, _, _, offset = CASES[name]
    # Not hash(name): string hashes differ between processes.
    gen = torch.Generator().manual_seed(list(CASES).index(name) * 100 + step)
    x = torch.randn(sum(counts), *shape, generator=gen) * 3 + offset
    # A random linear loss: sum(out) would give a zero input gradient.
    g = torch.randn(x.shape, generator=gen)
    c = shape[0]
    state = dict(weight=torch.rand(c, generator=gen) + 0.5,
                 bias=torch.randn(c, generator=gen),
                 running_mean=torch.randn(c, generator=gen),
                 running_var=torch.rand(c, generator=gen) + 0.5)
    return x, g, state


def _run_steps(layer, name, rank=None):
    """Trains ``layer`` on a case (on ``rank``: its slice); returns results."""
    counts, _, _, steps, _ = CASES[name]
    _, _, state = _case_data(name, 0)
    own = layer.state_dict()  # no weight / bias when affine=False
    layer.load_state_dict({k: v for k, v in state.items() if k in own},
                          strict=False)
    layer.train()
    out = []
    for step in range(steps):
        x, g, _ = _case_data(name, step)
        if rank is not None:
            start = sum(counts[:rank])
            x, g = x[start:start + counts[rank]], g[start:start + counts[rank]]
        x = x.clone().requires_grad_(name not in NO_INPUT_GRAD)
        layer.zero_grad()
        y = layer(x)
        (y * g).sum().backward()
        params = {k: p.grad.clone() for k, p in layer.named_parameters()}
        x_grad = torch.zeros(0) if x.grad is None else x.grad.clone()
        out.append(dict(y=y.detach(), x_grad=x_grad, params=params))
    buffers = {k: v.clone() for k, v in layer.named_buffers()}
    return out, buffers


def _reference(name):
    _, shape, kwargs, _, _ = CASES[name]
    bn_cls = nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d
    return _run_steps(bn_cls(shape[0], **kwargs), name)


def _worker(rank, port, out_dir):
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=WORLD, timeout=timedelta(seconds=60))
    torch.set_num_threads(1)
    results = {}
    for name, (_, shape, kwargs, _, _) in CASES.items():
        results[name] = _run_steps(
            AnySyncBatchNorm(shape[0], **kwargs), name, rank)
    torch.save(results, f'{out_dir}/rank{rank}.pth')
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def dist_results(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('sync_bn')
    ctx = mp.spawn(_worker, args=(_free_port(), str(out_dir)), nprocs=WORLD,
                   join=False)
    # A collective that some rank skips hangs; fail instead of waiting.
    deadline = time.monotonic() + 90
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail('AnySyncBN workers hung (collective mismatch?)')
    return [torch.load(out_dir / f'rank{r}.pth') for r in range(WORLD)]


@pytest.mark.parametrize('name', list(CASES))
def test_matches_batchnorm_on_concatenated_batch(dist_results, name):
    ref_steps, ref_buffers = _reference(name)
    for step, ref in enumerate(ref_steps):
        ranks = [res[name][0][step] for res in dist_results]
        for key in ('y', 'x_grad'):
            got = torch.cat([r[key] for r in ranks])
            assert got.shape == ref[key].shape, key
            torch.testing.assert_close(got, ref[key], **TOL, msg=key)
        # Parameter grads are per-rank sums; DDP adds (averages) them.
        for key, ref_grad in ref['params'].items():
            got = sum(r['params'][key] for r in ranks)
            torch.testing.assert_close(got, ref_grad, **TOL, msg=key)
    for res in dist_results:
        buffers = res[name][1]
        assert buffers.keys() == ref_buffers.keys()
        for key, ref_buf in ref_buffers.items():
            assert not buffers[key].isnan().any(), key
            torch.testing.assert_close(buffers[key], ref_buf, **TOL, msg=key)


@pytest.mark.parametrize('shape', [(4, 3, 5, 5), (6, 3)])
def test_single_process_is_batchnorm(shape):
    torch.manual_seed(0)
    ref = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(3)
    ours = AnySyncBatchNorm(3)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.normal_()
    ours.load_state_dict(ref.state_dict())
    for train in (True, False):
        ref.train(train), ours.train(train)
        x = torch.randn(shape) + 1
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        g = torch.randn(shape)
        y1, y2 = ref(x1), ours(x2)
        (y1 * g).sum().backward()
        (y2 * g).sum().backward()
        torch.testing.assert_close(y2, y1, rtol=0, atol=0)
        torch.testing.assert_close(x2.grad, x1.grad, rtol=0, atol=0)
        torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    for key, buf in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], buf)


def test_build_norm_layer():
    name, layer = build_norm_layer(dict(type='AnySyncBN', requires_grad=True),
                                   64, postfix=1)
    assert name == 'bn1' and type(layer) is AnySyncBatchNorm
    assert layer.num_features == 64 and layer.weight.requires_grad
    _, frozen = build_norm_layer(dict(type='AnySyncBN', requires_grad=False),
                                 8)
    assert not any(p.requires_grad for p in frozen.parameters())
    # Configs run with default_scope='mmdet': found through the parent.
    import mmdet.registry  # noqa: F401  (creates the 'mmdet' scope)
    with DefaultScope.overwrite_default_scope('mmdet'):
        assert type(build_norm_layer(dict(type='AnySyncBN'),
                                     8)[1]) is AnySyncBatchNorm


@pytest.mark.parametrize('norm_eval', [False, True])
def test_resnet_trains_with_anysyncbn(norm_eval):
    from mmdet.models.backbones import ResNet
    torch.manual_seed(0)
    model = ResNet(depth=18, base_channels=8, norm_eval=norm_eval,
                   norm_cfg=dict(type='AnySyncBN', requires_grad=True))
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(type(m) is AnySyncBatchNorm for m in norms)
    assert hasattr(model, 'norm1') and hasattr(model.layer1[0], 'norm2')
    # mmdet's ResNet.train() freezes every _BatchNorm when norm_eval=True.
    assert all(m.training != norm_eval for m in norms)
    # Two images: the last stage is 1x1, and BN needs > 1 value per channel.
    outs = model(torch.randn(2, 3, 32, 32))
    sum(o.square().mean() for o in outs).backward()
    assert model.conv1.weight.grad.abs().sum() > 0
