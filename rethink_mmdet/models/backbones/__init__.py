"""Backbones MMDetection lacks (VGG-16 without normalization)."""
from .vgg import PretrainedVGGFC, VGG16NoNorm

__all__ = ['PretrainedVGGFC', 'VGG16NoNorm']
