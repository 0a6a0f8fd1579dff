"""Every MMDetection 3.3 backbone from scratch (docs/extending.md, section
6): each that can feed a Mask R-CNN FPN, at a tiny size over the toy
config, is ready by check_scratch_ready.py and trains one step, and its
line of the page's table is what the checker reports (all but the two
measured columns, which tools/misc/extending_table.py measures at full
size)."""
import os.path as osp
import re

import pytest

from rethink_mmdet.cli.check_scratch_ready import format_report
from rethink_mmdet.readiness import backbone_table as et
from rethink_mmdet.readiness.backbone_catalogue import (
    BACKBONES,
    full_config,
    tiny_config,
)
from rethink_mmdet.readiness.scratch_readiness import check_scratch_readiness
from rethink_mmdet.testing import REPO_ROOT

DOC = osp.join(REPO_ROOT, 'docs', 'extending.md')
FEEDING = {e.name: e for e in BACKBONES if not e.cannot}
EXAMPLE_MAX_LINES = 15  # docs/extending.md, as tests/test_configs.py


def _doc() -> str:
    with open(DOC) as f:
        return f.read()


@pytest.mark.parametrize('name', sorted(FEEDING))
def test_backbone_from_scratch_is_ready_and_its_line_is_current(name):
    entry = FEEDING[name]
    assert entry.code_lines <= EXAMPLE_MAX_LINES, entry.text
    full = full_config(entry)
    result = check_scratch_readiness(tiny_config(entry, full),
                                     f'tiny {entry.model}', scratch=True)
    assert result.ready, format_report(result)
    assert result.train_step.endswith('passed'), format_report(result)
    # The heads read the strides the neck gives them.
    assert result.strides.startswith('4, 8, 16, 32, 64 ('), result.strides

    row = et.read_rows(_doc()).get(f'`{name}`')
    assert row, f'docs/extending.md has no line for {name}: run ' \
        'tools/misc/extending_table.py'
    assert row[:et.CHECKED] == et.checked_cells(entry, full, result), (
        f'docs/extending.md\'s line for {name} is stale: run '
        'tools/misc/extending_table.py')
    params, gflops = row[et.CHECKED:]
    assert re.fullmatch(r'\d+\.\dM', params) and re.fullmatch(
        r'\d+\.\d', gflops), row


def test_the_section_is_the_scripts():
    """Rows in the catalogue's order, one per backbone that feeds an FPN,
    the ones that cannot with why, and the lines of each snippet."""
    doc = _doc()
    rows = et.read_rows(doc)
    assert list(rows) == [f'`{name}`' for name in FEEDING]
    section = et.table(list(rows.values()),
                       [e for e in BACKBONES if e.cannot]) + (
                           '\n\n' + et.snippets(BACKBONES))
    assert et.with_section(doc, section) == doc, (
        'docs/extending.md\'s backbone section is stale: run '
        'tools/misc/extending_table.py --keep-measured')
    assert {'TridentResNet', 'HourglassNet', 'SSDVGG'} == {
        e.name for e in BACKBONES if e.cannot}


def test_the_script_refuses_a_page_without_the_markers(tmp_path, capsys):
    from rethink_mmdet.cli.common import run_main
    from rethink_mmdet.cli.extending_table import main
    page = tmp_path / 'extending.md'
    page.write_text('# Extending\n')
    assert run_main(main, ['--doc', str(page)]) == 2
    assert capsys.readouterr().err.strip() == (
        f'error: {page}: no {et.BEGIN} ... {et.END} markers')
    assert page.read_text() == '# Extending\n'
