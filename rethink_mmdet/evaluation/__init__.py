from .classification import ClassificationAccuracy

__all__ = ['ClassificationAccuracy']
