from .schedulers import DropBeforeEndLR, drop_points

__all__ = ['DropBeforeEndLR', 'drop_points']
