"""Pads every training batch to one of a few fixed shapes
(``speed.fixed_shapes``, :mod:`rethink_mmdet.engine.hooks.speed_switches`).

cuDNN's algorithm search (``cudnn.benchmark``) runs once per new input
shape; MMDetection's 1333x800 pipeline padded to a multiple of 32 gives
dozens of batch shapes, so the search keeps running. Padding to a few
shapes, e.g. ``[(800, 1344), (1344, 800)]`` for landscape and portrait
batches (the aspect-ratio sampler keeps them apart), makes it a one-time
cost. Padding is what the data preprocessor already does (zeros, outside
every box and mask), only to a larger size.
"""
from typing import List, Optional, Sequence, Tuple

from mmdet.models.data_preprocessors import BatchFixedSizePad
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class FixedShapePad(BatchFixedSizePad):
    """``BatchFixedSizePad`` to the smallest of ``sizes`` that holds the
    batch (a batch augment of ``DetDataPreprocessor``).

    Args:
        sizes: ``(h, w)`` shapes in pixels.
        **kwargs: ``BatchFixedSizePad``'s (``pad_mask``, pad values).

    Raises:
        ValueError: at a batch larger than every shape (a config whose
            Resize does not fit its ``fixed_shapes``).
    """

    def __init__(self, sizes: Sequence[Sequence[int]], **kwargs):
        sizes = [tuple(int(v) for v in s) for s in sizes]
        if not sizes or any(len(s) != 2 or min(s) < 1 for s in sizes):
            raise ValueError(f'FixedShapePad: sizes must be (h, w) pairs of '
                             f'positive ints, got {sizes}')
        sizes.sort(key=lambda s: (s[0] * s[1], s))
        super().__init__(size=sizes[0], **kwargs)
        self.sizes = sizes

    def forward(self, batch_inputs: Tensor,
                batch_data_samples: Optional[List] = None
                ) -> Tuple[Tensor, Optional[List]]:
        """Pads ``batch_inputs`` (N, 3, H, W) and the samples' metadata
        (and masks with ``pad_mask``) to the chosen shape."""
        h, w = batch_inputs.shape[-2:]
        fits = [s for s in self.sizes if s[0] >= h and s[1] >= w]
        if not fits:
            raise ValueError(f'FixedShapePad: a {h}x{w} batch is larger than '
                             f'every fixed shape {self.sizes}; add a larger '
                             f'one to speed.fixed_shapes')
        self.size = fits[0]
        return super().forward(batch_inputs, batch_data_samples)
