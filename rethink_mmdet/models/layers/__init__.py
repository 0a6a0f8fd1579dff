"""Normalization layers: GroupNorm under autocast, SyncBN on any device."""
from .autocast_group_norm import AutocastGroupNorm, is_group_norm
from .sync_bn import AnySyncBatchNorm

__all__ = ['AnySyncBatchNorm', 'AutocastGroupNorm', 'is_group_norm']
