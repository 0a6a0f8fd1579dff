"""README.md: short, and its table of rows is the metafile's."""
import os.path as osp
import sys

from rethink_mmdet.testing import REPO_ROOT, run_tool

README = osp.join(REPO_ROOT, 'README.md')
SCRIPT = 'tools/misc/readme_rows.py'


def test_readme_is_short():
    # A newcomer reads it in five minutes; the details live in docs/.
    assert osp.getsize(README) <= 12 * 1024


def test_readme_table_is_the_metafile_s():
    run_tool([sys.executable, SCRIPT, '--check'])


def test_a_stale_table_is_found_and_rewritten(tmp_path):
    stale = tmp_path / 'README.md'
    with open(README) as f:
        text = f.read()
    row = '| [Table 1 (R101-FPN GN)](configs/table1/)'
    assert row in text
    stale.write_text(text.replace(row, '| [Table 2](configs/table1/)'))
    result = run_tool([sys.executable, SCRIPT, '--check', '--readme',
                       str(stale)], returncode=1)
    assert 'differs from configs/metafile.yml' in result.stdout
    run_tool([sys.executable, SCRIPT, '--readme', str(stale)])
    assert stale.read_text() == text
