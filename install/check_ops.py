"""Proves mmcv's compiled ops work where training will run them.

``nms`` and ``RoIAlign`` (forward and backward) run on the device and are
compared with exact answers and, on a GPU, with the CPU ops; the set-up's
last step and ``make gpu-check`` run it. On failure it prints one line
naming the missing piece and exits 1::

    python install/check_ops.py [--device auto|cpu|cuda] [--json OUT]

It needs torch and mmcv only (not this package), so it can name the piece
that is missing before anything else imports mmcv. It never calls mmcv's
``get_compiling_cuda_version()`` or ``get_compiler_version()``: unpatched
mmcv 2.1.0 builds crashed in them (SIGSEGV) on a CUDA 13 node. Whether the
build holds CUDA code is read from its extension's ELF sections (nvcc puts
device code in ``.nv_fatbin``); the CUDA version is torch's, which the
build was made with (the set-up's build key names both).
"""
import argparse
import importlib.util
import json
import struct
import sys


class OpsError(Exception):
    """A piece of the compiled ops is missing or wrong."""


def nms_case(torch):
    """Boxes, scores and the indices greedy NMS at IoU 0.5 keeps."""
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30],
                          [0, 0, 10, 10.5], [21, 21, 29, 29],
                          [40, 0, 50, 8]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95, 0.6, 0.5])
    # 3 beats 0 and 1 (IoU > 0.5); 2 beats 4 (IoU 0.64); 5 overlaps nothing.
    return boxes, scores, [3, 2, 5]


def linear_features(torch, device, channels=3, size=16):
    """Features a*x + b*y + c per channel: bilinear sampling of a linear
    function is exact, so RoIAlign's output is known in closed form."""
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                            torch.arange(size, dtype=torch.float32),
                            indexing='ij')
    planes = [(c + 1) * xs + (2 - c) * ys + c for c in range(channels)]
    return torch.stack(planes)[None].to(device)


def roi_align_expected(torch, rois, out_size, channels=3):
    """Bin-centre values of :func:`linear_features` (aligned=True)."""
    expected = []
    for _, x1, y1, x2, y2 in rois.tolist():
        x1, y1, x2, y2 = x1 - 0.5, y1 - 0.5, x2 - 0.5, y2 - 0.5
        bw, bh = (x2 - x1) / out_size, (y2 - y1) / out_size
        xc = torch.tensor([x1 + (j + 0.5) * bw for j in range(out_size)])
        yc = torch.tensor([y1 + (i + 0.5) * bh for i in range(out_size)])
        expected.append(torch.stack([
            (c + 1) * xc[None, :] + (2 - c) * yc[:, None] + c
            for c in range(channels)]))
    return torch.stack(expected)


def run_ops(torch, ops, device):
    """nms and RoIAlign forward/backward on ``device``; CPU tensors back."""
    boxes, scores, keep = nms_case(torch)
    _, inds = ops.nms(boxes.to(device), scores.to(device), 0.5)
    if inds.tolist() != keep:
        raise OpsError(f'nms on {device} kept {inds.tolist()}, expected '
                       f'{keep}')
    feats = linear_features(torch, device).requires_grad_(True)
    rois = torch.tensor([[0, 2, 3, 9, 12], [0, 4.5, 1.25, 13, 6.75]],
                        device=device)
    align = ops.RoIAlign(output_size=(4, 4), spatial_scale=1.0,
                         sampling_ratio=2, aligned=True)
    out = align(feats, rois)
    out.sum().backward()
    expected = roi_align_expected(torch, rois.cpu(), 4)
    error = (out.detach().cpu() - expected).abs().max().item()
    if error > 1e-4:
        raise OpsError(f'RoIAlign forward on {device} is off by {error:.3g}')
    # Each output spreads weight 1 over the input: the gradient sums to the
    # number of outputs.
    total = feats.grad.sum().item()
    if abs(total - out.numel()) > 1e-3:
        raise OpsError(f'RoIAlign backward on {device}: gradient sums to '
                       f'{total}, expected {out.numel()}')
    return out.detach().cpu(), feats.grad.cpu()


def elf_sections(path: str) -> list:
    """Section names of an ELF shared object (empty when it is not one)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:  # 64-bit ELF only
        return []
    order = '<' if data[5] == 1 else '>'
    shoff, = struct.unpack_from(order + 'Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(order + 'HHH', data,
                                                    0x3A)

    def header(index):
        # sh_name and sh_offset of section ``index``.
        base = shoff + index * shentsize
        name, = struct.unpack_from(order + 'I', data, base)
        offset, = struct.unpack_from(order + 'Q', data, base + 0x18)
        return name, offset

    strings = header(shstrndx)[1]
    names = []
    for index in range(shnum):
        start = strings + header(index)[0]
        names.append(data[start:data.index(b'\0', start)].decode())
    return names


def extension_has_cuda_code() -> bool:
    """Whether mmcv's compiled extension holds CUDA device code, read from
    the file without importing it."""
    spec = importlib.util.find_spec('mmcv._ext')
    if spec is None or not spec.origin:
        raise OpsError('mmcv has no compiled ops (no mmcv._ext): it was '
                       'installed without MMCV_WITH_OPS, or is mmcv-lite')
    return '.nv_fatbin' in elf_sections(spec.origin)


def check(device: str) -> dict:
    """Runs the check; returns what the set-up stamp records."""
    try:
        import torch
    except ImportError:
        raise OpsError('torch is not installed')
    try:
        import mmcv
    except ImportError:
        raise OpsError('mmcv is not installed')
    cuda_code = extension_has_cuda_code()
    try:
        from mmcv import ops
    except ImportError as error:
        raise OpsError(f'mmcv has no compiled ops ({error}): it was '
                       'installed without MMCV_WITH_OPS, or is mmcv-lite')
    built_cuda = (torch.version.cuda or 'unknown') if cuda_code else None
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cuda':
        if not torch.cuda.is_available():
            raise OpsError(
                f'torch {torch.__version__} sees no GPU (CUDA build: '
                f'{torch.version.cuda}): check the driver (nvidia-smi), '
                'CUDA_VISIBLE_DEVICES and the job\'s GPU request (--gres)')
        if built_cuda is None:
            raise OpsError(
                f'mmcv {mmcv.__version__} was built without CUDA ops '
                '(no FORCE_CUDA or nvcc at build time): re-run the set-up')
    try:
        out, grad = run_ops(torch, ops, device)
        if device == 'cuda':
            out_cpu, grad_cpu = run_ops(torch, ops, 'cpu')
            diff = max((out - out_cpu).abs().max().item(),
                       (grad - grad_cpu).abs().max().item())
            if diff > 1e-4:
                raise OpsError(f'RoIAlign on cuda differs from cpu by '
                               f'{diff:.3g}')
    except RuntimeError as error:
        # e.g. "roi_align_forward_impl: implementation for device cuda:0
        # not found", "no kernel image is available" (arch list).
        first = str(error).strip().splitlines()[0]
        raise OpsError(f'mmcv ops on {device}: {first}')
    name = torch.cuda.get_device_name() if device == 'cuda' else 'CPU'
    return {'ops_device': 'cuda' if built_cuda else 'cpu',
            'checked_on': device, 'cuda': built_cuda,
            'torch': torch.__version__, 'mmcv': mmcv.__version__,
            'device_name': name}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'),
                        default='auto')
    parser.add_argument('--json', help='write the result here')
    args = parser.parse_args(argv)
    try:
        result = check(args.device)
    except OpsError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f)
    built = f'CUDA {result["cuda"]}' if result['cuda'] else 'CPU only'
    print(f'ops: nms and RoIAlign forward/backward correct on '
          f'{result["checked_on"]} ({result["device_name"]}); mmcv '
          f'{result["mmcv"]} built for {built}, torch {result["torch"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
