"""The layout a maintainer reads from ``ls`` (docs/architecture.md): one
capability per folder, each saying what it is; a file name says which
file it is; the tools mirror the CLI modules; models/ exports only what
configs name."""
import ast
import glob
import os
import os.path as osp
import subprocess
import sys
from collections import Counter

import pytest

from rethink_mmdet.testing import REPO_ROOT

PACKAGE = osp.join(REPO_ROOT, 'rethink_mmdet')
ARCHITECTURE = osp.join(REPO_ROOT, 'docs', 'architecture.md')


def _code_files(*folders):
    return [p for folder in folders for p in glob.glob(
        osp.join(REPO_ROOT, folder, '**', '*'), recursive=True)
        if p.endswith(('.py', '.sh'))]


def test_no_file_name_is_repeated_in_the_package_or_install():
    names = Counter(osp.basename(p) for p in
                    _code_files('rethink_mmdet', 'install')
                    if osp.basename(p) != '__init__.py')
    assert [name for name, n in names.items() if n > 1] == []


def test_every_tool_calls_the_package_module_of_its_name():
    """tools/X.py only calls ``main`` of the one package module named X
    (a CLI module, or a dataset converter's)."""
    for path in glob.glob(osp.join(REPO_ROOT, 'tools', '**', '*.py'),
                          recursive=True):
        name = osp.splitext(osp.basename(path))[0]
        if name == 'readme_rows':  # a maintainer script of its own
            continue
        tree = ast.parse(open(path).read())
        calls = {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)
                 and any(a.name == 'main' for a in node.names)}
        assert len(calls) == 1, (path, calls)
        module = calls.pop()
        assert module.split('.')[-1] == name, (path, module)


def _package_folders():
    return sorted(osp.dirname(p) for p in glob.glob(
        osp.join(PACKAGE, '**', '__init__.py'), recursive=True))


@pytest.mark.parametrize('folder', _package_folders(),
                         ids=lambda f: osp.relpath(f, REPO_ROOT))
def test_every_package_folder_says_what_it_is_in_one_line(folder):
    doc = ast.get_docstring(ast.parse(
        open(osp.join(folder, '__init__.py')).read()))
    assert doc, f'{folder}/__init__.py has no docstring'
    first = doc.split('\n\n')[0]
    assert '\n' not in first and first.endswith('.'), first


def test_the_architecture_page_names_every_top_folder():
    text = open(ARCHITECTURE).read()
    assert len(text.splitlines()) < 60
    for entry in os.listdir(PACKAGE):
        if osp.isfile(osp.join(PACKAGE, entry, '__init__.py')):
            assert f'{entry}/' in text, entry
    for folder in ('tools/', 'install/', 'tests/'):
        assert folder in text


def test_no_code_file_is_over_400_lines():
    long = {osp.relpath(p, REPO_ROOT): n for p in _code_files(
        'rethink_mmdet', 'install', 'tools', 'tests')
        if (n := sum(1 for _ in open(p))) > 400}
    assert long == {}


def test_models_exports_only_what_configs_name():
    """Each name is registered (under its own name or a short one, as
    ``AnySyncBN``) in a registry configs draw from."""
    from mmdet.registry import MODELS
    from mmengine.registry import MODELS as ENGINE_MODELS
    from mmengine.registry import WEIGHT_INITIALIZERS

    import rethink_mmdet.models as models
    registered = [obj for registry in (MODELS, ENGINE_MODELS,
                                       WEIGHT_INITIALIZERS)
                  for obj in registry.module_dict.values()]
    for name in models.__all__:
        assert getattr(models, name) in registered, name


def test_importing_the_package_registers_no_checker_probe():
    """Configs import rethink_mmdet; the checker's init probe is
    registered only when the checker runs."""
    probe = subprocess.run(
        [sys.executable, '-c', 'import rethink_mmdet; '
         'from mmengine.registry import WEIGHT_INITIALIZERS as W; '
         'print(W.get("InitCfgProbe"))'], capture_output=True, text=True,
        check=True)
    assert probe.stdout.split()[-1] == 'None'
