"""Synchronized BatchNorm for any device and backend (``AnySyncBN``).

The paper's SyncBN rows normalize over the whole 16-image batch. torch's
``nn.SyncBatchNorm`` rejects CPU tensors and mmcv's ``MMSyncBN`` needs CUDA,
so neither runs a config on CPU processes with gloo. ``AnySyncBatchNorm``
shares per-channel statistics with plain ``torch.distributed`` collectives
(``all_gather``, ``all_reduce``), which gloo and NCCL both provide, and does
the backward pass by hand so the gradients are those of BatchNorm over the
concatenated batch.

Shapes: N samples on this rank (may be 0, e.g. a RoI head given no RoIs),
C channels, ``*`` any spatial dims; M = N * prod(*) elements per channel.
"""
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """Views a (C,) tensor so that it broadcasts over an (N, C, *) input."""
    return t.view(1, -1, *([1] * (ndim - 2)))


class _SyncBNFunction(torch.autograd.Function):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias``, global grads.

    ``mean`` and ``var`` are the already synchronized (C,) statistics,
    computed without autograd; backward adds their dependence on ``x`` (on
    every rank) by all-reducing the two per-channel sums of the BatchNorm
    gradient. Both passes reuse torch's fused eval-mode BatchNorm kernels,
    which take the statistics as given, so no extra full-size temporaries.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor,
                var: Tensor, total: Tensor, eps: float) -> Tensor:
        ctx.save_for_backward(x, weight, mean, var, total)
        ctx.eps = eps
        if x.numel() == 0:
            return torch.empty_like(x)
        return F.batch_norm(x, mean, var, weight, bias, False, 0., eps)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, weight, mean, var, total = ctx.saved_tensors
        if x.numel() == 0:  # the CPU kernel divides by zero on empty input
            grad_x, sums = torch.zeros_like(x), mean.new_zeros(2, len(mean))
        else:
            # Eval-mode backward: grad_x = dy * weight * invstd, plus the
            # local sums: sum(dy * xhat) (grad of weight), sum(dy) (of bias).
            grad_x, grad_w, grad_b = (
                torch.ops.aten.native_batch_norm_backward(
                    grad_out.contiguous(), x, weight, mean, var, None, None,
                    False, ctx.eps, [ctx.needs_input_grad[0], True, True]))
            sums = torch.stack([grad_b, grad_w])  # (2, C)
        if ctx.needs_input_grad[0]:
            # Every rank gets here, an empty one too, so the collectives
            # match. Parameter grads stay local: DDP reduces those itself.
            global_sums = sums.clone()
            dist.all_reduce(global_sums)
            invstd = torch.rsqrt(var + ctx.eps)
            # grad_x -= weight * invstd * (mean_dy + xhat * mean_dy_xhat)
            #         = slope * x + offset, per channel (few small ops: this
            # pass is bound by kernel launches, not by the GPU).
            k_dy, k_dy_xhat = global_sums * (weight * invstd /
                                             total.clamp(min=1))
            slope = k_dy_xhat * invstd
            offset = torch.addcmul(k_dy, slope, mean, value=-1)
            ndim = x.dim()
            grad_x = grad_x.addcmul_(x, _per_channel(slope, ndim),
                                     value=-1).sub_(_per_channel(offset, ndim))
        else:
            grad_x = None
        grad_w = sums[1].to(weight.dtype) if ctx.needs_input_grad[1] else None
        grad_b = sums[0].to(weight.dtype) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None, None, None, None


@MODELS.register_module(name='AnySyncBN')
class AnySyncBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics span all ranks, on any backend.

    Registered as ``'AnySyncBN'``: "any" because it runs on CPU (gloo) and
    GPU (NCCL) alike, and a new name because ``'SyncBN'`` (torch's, CUDA
    only) and ``'MMSyncBN'`` (mmcv's) are taken. Use it as
    ``norm_cfg=dict(type='AnySyncBN', requires_grad=True)``. It subclasses
    ``_BatchNorm`` so mmdet's ``norm_eval`` and no-decay-on-norm logic apply,
    and keeps the ``bn`` abbreviation so layer names (``bn1``, ``norm1``)
    and checkpoints match plain BN.

    In training mode inside a process group of world size > 1, every rank
    all-gathers per-channel (mean, var, count) once in forward and
    all-reduces (sum dy, sum dy*xhat) once in backward. A rank with N=0
    joins both collectives and contributes nothing; its output must stay
    connected to the loss (mmdet's empty-RoI losses are ``pred.sum() * 0``)
    or the other ranks wait in backward. Otherwise (eval, one process) it is
    exactly ``F.batch_norm``.

    Args:
        num_features: C.
        eps, momentum, affine, track_running_stats: As ``nn.BatchNorm2d``.
    """
    _abbr_ = 'bn'

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                f'expected an (N, C, *) input, got {input.dim()}D input')

    def forward(self, input: Tensor) -> Tensor:
        """Normalizes ``input``.

        Args:
            input: (N, C, *) features, e.g. (N, C) or (N, C, H, W).

        Returns:
            Tensor of the same shape and dtype.
        """
        self._check_input_dim(input)
        if not (self.training and dist.is_available()
                and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)

        c, world = self.num_features, dist.get_world_size()
        # Statistics in float32 at least, also for fp16 / bf16 (AMP) inputs.
        dtype = torch.promote_types(input.dtype, torch.float32)
        with torch.no_grad():
            count = input.numel() // c  # M, known on the host: no sync
            if count > 0:
                # Per-rank (mean, biased var) combined by Chan's formula:
                # accurate where E[x^2] - E[x]^2 cancels (|mean| >> std),
                # and var_mean is one fused pass (summing x and x^2 in
                # float64 took ~5x longer on an H200).
                var, mean = torch.var_mean(
                    input.detach().to(dtype), [0, *range(2, input.dim())],
                    correction=0)
                # float64 (cat promotes): counts above 2^24 stay exact.
                local = torch.cat([
                    mean, var,
                    mean.new_full((1, ), count, dtype=torch.float64)
                ])
            else:
                local = input.new_zeros(2 * c + 1, dtype=torch.float64)
            gathered = local.new_empty(world * (2 * c + 1))
            # One collective; gloo only takes a flat output tensor.
            dist.all_gather_into_tensor(gathered, local)
            rows = gathered.view(world, -1)  # (W, 2C + 1)
            means, vars_, counts = rows.split([c, c, 1], dim=1)
            total = counts.sum(0)  # (1,)
            # Clamps instead of branching on ``total`` avoid a host sync per
            # layer; with total == 0 every rank's output is empty anyway.
            weights = counts / total.clamp(min=1)
            mean = (weights * means).sum(0)
            var = (weights * (vars_ + (means - mean).square())).sum(0)
            if self.track_running_stats:
                self._update_running_stats(mean, var, total)

        weight = self.weight if self.affine else mean.new_ones(c, dtype=dtype)
        bias = self.bias if self.affine else mean.new_zeros(c, dtype=dtype)
        return _SyncBNFunction.apply(input, weight, bias, mean.to(dtype),
                                     var.to(dtype), total.to(dtype), self.eps)

    def _update_running_stats(self, mean: Tensor, var: Tensor,
                              total: Tensor) -> None:
        """Moves running stats toward (mean, unbiased var) as BatchNorm does.

        Args:
            mean, var: (C,) global batch mean and biased variance.
            total: (1,) global element count per channel, M summed over ranks.
        """
        # BatchNorm counts every training batch, even an empty one.
        self.num_batches_tracked.add_(1)
        momentum = self.momentum
        if momentum is None:  # cumulative moving average
            momentum = 1.0 / self.num_batches_tracked.double()
        # BatchNorm leaves the stats alone for an empty batch and raises for
        # one element (unbiased var = inf); raising here would need a host
        # sync, so both just skip the update.
        factor = (total > 1) * momentum
        unbiased = var * (total / (total - 1).clamp(min=1))
        for buf, new in ((self.running_mean, mean),
                         (self.running_var, unbiased)):
            buf.lerp_(new.to(buf.dtype), factor.to(buf.dtype))
