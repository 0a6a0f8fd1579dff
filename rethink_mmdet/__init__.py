"""rethink_mmdet: MMDetection 3.x configs and modules that train from scratch.

"Rethinking ImageNet Pre-training" (He et al.): importing the package
applies the stack's compatibility patches (:mod:`rethink_mmdet.compat`) and
registers every module, so configs only need
``custom_imports = dict(imports=['rethink_mmdet'])``."""
from . import compat
from .version import __version__

compat.apply_patches()

# After the patches:
from . import datasets, engine, evaluation, models  # noqa: E402

__all__ = ['__version__', 'compat', 'datasets', 'engine', 'evaluation',
           'models']
