"""Necks: HRFPN with the norm layers MMDetection's ignores."""
from .hrfpn import HRFPNWithNorm

__all__ = ['HRFPNWithNorm']
