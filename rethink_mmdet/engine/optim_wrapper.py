"""Mixed precision without a loss scale in bfloat16.

mmengine 0.10.7's ``AmpOptimWrapper`` creates a ``GradScaler`` whatever the
dtype. bfloat16 has float32's exponent range, so its gradients neither
underflow nor overflow where float32's would not: the scaler's work (scale
the loss, unscale every gradient, an inf/NaN check, a host sync each step)
buys nothing there. :class:`MixedPrecisionOptimWrapper` is
``AmpOptimWrapper`` that skips it in bfloat16 and keeps it in float16,
where it is needed.
"""
import torch
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(AmpOptimWrapper):
    """``AmpOptimWrapper`` without a ``GradScaler`` when ``dtype`` is
    bfloat16 (``tools/train.py --amp``).

    In bfloat16 the step is ``OptimWrapper``'s (plain backward, gradient
    clipping, optimizer step) inside autocast, the checkpoint holds no
    ``loss_scaler`` state (one from a float16 run is ignored on resume),
    and the wrapper also runs on a CPU, where autocast supports bfloat16
    and mmengine's wrapper refuses to start. Any other dtype (None:
    autocast's default, float16 on a GPU) is ``AmpOptimWrapper`` unchanged.

    Args:
        loss_scale: ``AmpOptimWrapper``'s; unused in bfloat16.
        dtype: Autocast dtype: ``'bfloat16'``, ``'float16'``, a
            ``torch.dtype`` or None.
        use_fsdp: ``AmpOptimWrapper``'s; unused in bfloat16.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, loss_scale='dynamic', dtype=None,
                 use_fsdp: bool = False, **kwargs):
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'optim_wrapper.dtype must be one of '
                                 f'{self.valid_dtypes}, got {dtype!r}')
            dtype = getattr(torch, dtype)
        if dtype != torch.bfloat16:
            if get_device() == 'cpu':
                raise ValueError(
                    f'mixed precision in {dtype or "float16"} needs a GPU; '
                    'on a CPU set optim_wrapper.dtype=bfloat16')
            super().__init__(loss_scale=loss_scale, dtype=dtype,
                             use_fsdp=use_fsdp, **kwargs)
            return
        # AmpOptimWrapper.__init__ would build the scaler (and refuse a
        # CPU); the rest of its state is OptimWrapper's plus these two.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = None
        self.cast_dtype = dtype

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is None:
            return OptimWrapper.backward(self, loss, **kwargs)
        return super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            return OptimWrapper.step(self, **kwargs)
        return super().step(**kwargs)

    def state_dict(self) -> dict:
        if self.loss_scaler is None:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        if self.loss_scaler is None:
            state_dict.pop('loss_scaler', None)
        super().load_state_dict(state_dict)
