"""Every ``imagenet://NAME`` checkpoint: where it comes from, how its keys
are laid out and the input it was trained on.

A pre-trained backbone only helps when it sees the input its ImageNet
training saw: Detectron's Caffe2 GN ResNets were trained on BGR images with
the mean subtracted and no std division; torchvision's models on RGB
images divided by the ImageNet std. Feeding one the other's input swaps
colour channels or scales them by ~58, and handicaps the pre-trained arm
of the paper's comparison. So the model bases set ``data_preprocessor`` to
the row of :data:`IMAGENET_WEIGHTS` their ``imagenet_backbone`` loads, the
scratch rows share their base's preprocessing (the two arms differ only in
initialization), and ``tests/test_models/test_imagenet_weights.py`` walks
every pre-trained config against this table. ``tools/train.py`` refuses a
config that disagrees (:func:`imagenet_problems`).
"""
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

#: Environment variable naming a folder of local ImageNet checkpoints
#: (``NAME.pth``, as tools/misc/fetch_imagenet_weights.py writes them), for
#: GPU nodes without internet access.
IMAGENET_DIR_ENV = 'RETHINK_IMAGENET_DIR'

CAFFE_BGR = dict(mean=(103.53, 116.28, 123.675), std=(1.0, 1.0, 1.0),
                 channel_order='BGR')
TORCHVISION_RGB = dict(mean=(123.675, 116.28, 103.53),
                       std=(58.395, 57.12, 57.375), channel_order='RGB')


@dataclass(frozen=True)
class ImageNetWeights:
    """One ImageNet checkpoint and the input it expects.

    Args:
        name: The ``NAME`` of ``imagenet://NAME`` (and of ``NAME.pth``).
        url: Where it is downloaded from (None: made locally, e.g. by
            tools/study.py). The file name's hex part is the start of the
            file's sha256 (OpenMMLab's and torchvision's convention).
        origin: Who trained it, and the alias MMDetection knows it by.
        key_layout: The state-dict layout, as the backbone loads it.
        norm: Its normalization layers (``'GN'``, ``'BN'`` or None), which
            the backbone loading it must have too.
        channel_order: ``'BGR'`` or ``'RGB'``: the images it was trained on.
        mean: Per-channel mean subtracted, in ``channel_order``, 0-255.
        std: Per-channel std divided by, in ``channel_order``.
    """
    name: str
    url: Optional[str]
    origin: str
    key_layout: str
    norm: Optional[str]
    channel_order: str
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]

    @property
    def sha256_prefix(self) -> Optional[str]:
        """The start of the file's sha256 that its file name carries."""
        match = re.search(r'-([0-9a-f]{8,})\.pth$', self.url or '')
        return match.group(1) if match else None

    def data_preprocessor(self) -> dict:
        """The ``DetDataPreprocessor`` values for this input (mmdet's
        ``LoadImageFromFile`` gives BGR images)."""
        return dict(mean=list(self.mean), std=list(self.std),
                    bgr_to_rgb=self.channel_order == 'RGB')


_TV = 'https://download.pytorch.org/models/'
_OPENMMLAB = 'https://download.openmmlab.com/pretrain/third_party/'
_RESNET_KEYS = ('mmdet ResNet: conv1, {n}1, layer1-4.N.conv1-3/{n}1-3, '
                'layerK.0.downsample.0/1; fc.* unused')

#: The table: ``imagenet://NAME`` -> its checkpoint and expected input.
IMAGENET_WEIGHTS: Dict[str, ImageNetWeights] = {w.name: w for w in (
    ImageNetWeights(
        'resnet50_gn', _OPENMMLAB + 'resnet50_gn-9186a21c.pth',
        'Detectron (Caffe2) GN ResNet-50, converted by OpenMMLab '
        '(open-mmlab://detectron/resnet50_gn)',
        _RESNET_KEYS.format(n='gn'), 'GN', **CAFFE_BGR),
    ImageNetWeights(
        'resnet101_gn', _OPENMMLAB + 'resnet101_gn-cac0ab98.pth',
        'Detectron (Caffe2) GN ResNet-101, converted by OpenMMLab '
        '(open-mmlab://detectron/resnet101_gn)',
        _RESNET_KEYS.format(n='gn'), 'GN', **CAFFE_BGR),
    ImageNetWeights(
        'resnet50', _TV + 'resnet50-0676ba61.pth',
        'torchvision ResNet50_Weights.IMAGENET1K_V1 (torchvision://resnet50)',
        _RESNET_KEYS.format(n='bn'), 'BN', **TORCHVISION_RGB),
    ImageNetWeights(
        'resnet101', _TV + 'resnet101-63fe2227.pth',
        'torchvision ResNet101_Weights.IMAGENET1K_V1 '
        '(torchvision://resnet101)',
        _RESNET_KEYS.format(n='bn'), 'BN', **TORCHVISION_RGB),
    ImageNetWeights(
        'vgg16', _TV + 'vgg16-397923af.pth',
        'torchvision VGG16_Weights.IMAGENET1K_V1 (torchvision://vgg16)',
        'torchvision VGG: features.{0..28}.weight/bias (13 convs), '
        'classifier.0/3 (fc6/fc7, PretrainedVGGFC), classifier.6 unused',
        None, **TORCHVISION_RGB),
    ImageNetWeights(
        'toy-resnet18_gn_synthetic-shapes', None,
        'tools/study.py: the backbone of the toy classifier pre-trained on '
        'synthetic shapes (configs/toy/classifier_r18-tiny_gn_toy-12000i_'
        'synthetic-shapes.py; shipped in rethink_mmdet/toy/pretrained/)',
        _RESNET_KEYS.format(n='gn'), 'GN', **TORCHVISION_RGB),
)}


def resolve_imagenet_checkpoint(name: str) -> str:
    """Local file or public address of the ImageNet checkpoint ``name``.

    ``$RETHINK_IMAGENET_DIR/NAME.pth`` wins when the variable is set; it must
    then exist (a silent download on an offline node would hang or fail
    later). Otherwise the address from :data:`IMAGENET_WEIGHTS`.
    """
    local_dir = os.environ.get(IMAGENET_DIR_ENV)
    if local_dir:
        path = os.path.join(local_dir, f'{name}.pth')
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f'imagenet://{name}: {IMAGENET_DIR_ENV}={local_dir} is set '
                f'but {path} does not exist (tools/misc/'
                f'fetch_imagenet_weights.py {local_dir} downloads it)')
        return path
    weights = IMAGENET_WEIGHTS.get(name)
    if weights is None or weights.url is None:
        raise KeyError(
            f'imagenet://{name}: no public address; known names: '
            f'{sorted(n for n, w in IMAGENET_WEIGHTS.items() if w.url)}, or '
            f'put {name}.pth in the folder named by ${IMAGENET_DIR_ENV}')
    return weights.url


def imagenet_names(node, key: str = 'model') -> Iterator[Tuple[str, str]]:
    """``(config key, NAME)`` of every ``imagenet://NAME`` in a config."""
    if isinstance(node, dict):
        for child, value in node.items():
            yield from imagenet_names(value, f'{key}.{child}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from imagenet_names(value, f'{key}.{i}')
    elif isinstance(node, str) and node.startswith('imagenet://'):
        yield key, node[len('imagenet://'):]


def _close(a, b) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-3 for x, y in zip(a, b))


def preprocessing_problem(model_cfg: dict, name: str) -> Optional[str]:
    """Why the model's ``data_preprocessor`` does not feed ``name`` the
    input it expects, or None."""
    weights = IMAGENET_WEIGHTS.get(name)
    if weights is None:
        return None
    pre = model_cfg.get('data_preprocessor') or {}
    expected = weights.data_preprocessor()
    got = dict(mean=list(pre.get('mean') or []),
               std=list(pre.get('std') or []),
               bgr_to_rgb=bool(pre.get('bgr_to_rgb', False)))
    if (_close(got['mean'], expected['mean'])
            and _close(got['std'], expected['std'])
            and got['bgr_to_rgb'] == expected['bgr_to_rgb']):
        return None
    return (f'imagenet://{name} ({weights.origin}) expects '
            f'{weights.channel_order} input with mean {list(weights.mean)} '
            f'and std {list(weights.std)}, i.e. model.data_preprocessor '
            f'{expected}, but the config has {got}')


def imagenet_problems(model_cfg: dict, check_files: bool = True
                      ) -> List[str]:
    """Problems of a model config's ``imagenet://`` checkpoints: unknown
    names, preprocessing that disagrees with the weights, and, when
    ``$RETHINK_IMAGENET_DIR`` is set (or the name has no public address),
    a missing ``NAME.pth``."""
    problems = []
    for name in sorted({name for _, name in imagenet_names(model_cfg)}):
        problem = preprocessing_problem(model_cfg, name)
        if problem:
            problems.append(problem)
        if check_files:
            try:
                resolve_imagenet_checkpoint(name)
            except (FileNotFoundError, KeyError) as e:
                problems.append(str(e).strip('"\''))
    return problems
