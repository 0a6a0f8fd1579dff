from .autocast_group_norm import AutocastGroupNorm
from .sync_bn import AnySyncBatchNorm

__all__ = ['AnySyncBatchNorm', 'AutocastGroupNorm']
