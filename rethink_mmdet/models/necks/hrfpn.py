"""HRFPN whose convolutions are normalized as its ``norm_cfg`` says.

MMDetection 3.3's ``HRFPN`` stores ``norm_cfg`` but builds its reduction
and output convs without it, so an HRNetV2p detector with GN "everywhere"
has an unnormalized neck (``check_scratch_ready.py`` reports it). The paper
normalizes the FPN's lateral and output convs (docs/recipe.md); this subclass
passes ``norm_cfg`` to the same convs, nothing else changes.
"""
from mmcv.cnn import ConvModule
from mmdet.models.necks import HRFPN
from mmdet.registry import MODELS


@MODELS.register_module()
class HRFPNWithNorm(HRFPN):
    """``HRFPN`` with ``norm_cfg`` applied to its 1x1 reduction conv and its
    3x3 output convs (conv → norm, no activation, as in ``HRFPN``).

    Args:
        *args: ``HRFPN`` arguments (``in_channels``, ``out_channels``, ...).
        **kwargs: ``HRFPN`` keyword arguments; ``norm_cfg``, e.g.
            ``dict(type='GN', num_groups=32)``, now takes effect.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.norm_cfg is None:
            return
        # Same shapes as HRFPN's, with the norm it leaves out; a conv
        # followed by a norm needs no bias.
        self.reduction_conv = ConvModule(
            sum(self.in_channels), self.out_channels, kernel_size=1,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=None)
        stride = self.fpn_convs[0].conv.stride
        for i in range(self.num_outs):
            self.fpn_convs[i] = ConvModule(
                self.out_channels, self.out_channels, kernel_size=3,
                padding=1, stride=stride, conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg, act_cfg=None)
