from .vgg import PretrainedVGGFC, VGG16NoNorm

__all__ = ['PretrainedVGGFC', 'VGG16NoNorm']
