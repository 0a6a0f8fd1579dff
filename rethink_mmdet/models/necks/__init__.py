from .hrfpn import HRFPNWithNorm

__all__ = ['HRFPNWithNorm']
