from .sync_bn import AnySyncBatchNorm

__all__ = ['AnySyncBatchNorm']
