"""``make demo``'s screen: progress lines and the result tables; what the
tools print goes to its log file."""
import pytest

from rethink_mmdet.testing import TOY_CONFIG, as_cli_options, toy_overrides
from rethink_mmdet.toy.demo_run import LOG_FILE, run_demo
from rethink_mmdet.toy.progress_display import TrainProgress

pytestmark = pytest.mark.slow


def test_a_short_demo_prints_progress_and_results_only(
        tmp_path, tiny_coco, capfd):
    work_dir = tmp_path / 'demo'
    options = as_cli_options(toy_overrides(tiny_coco, max_iters=4))[1:]
    metrics = run_demo(TOY_CONFIG, str(work_dir), tiny_coco, options,
                       prepare_data=lambda root: None)
    out, err = capfd.readouterr()
    screen = (out + err).splitlines()
    progress = [line for line in screen if line.startswith('[train ')]
    # One line per logged step (every iteration here), each with an ETA.
    assert [line.split('] ')[1].split(',')[0] for line in progress] == [
        f'iteration {i}/4' for i in range(1, 5)]
    assert all(' left] ' in line for line in progress)
    assert 'bbox_mAP' in ' '.join(screen)  # the final validation
    assert sum(line.startswith(('bbox ', 'segm ')) for line in screen) == 4
    assert 'coco/bbox_mAP' in metrics
    # 3 stage headers, 4 + 1 progress and validation lines, 2 tables of 4
    # lines with their blank lines, the training time and 3 closing lines.
    assert len(screen) <= 25, '\n'.join(screen)
    for chatter in ('loading annotations', 'index created', 'Config:',
                    'Hooks will be executed'):
        assert chatter not in out + err
    log = (work_dir / LOG_FILE).read_text()
    for chatter in ('loading annotations', 'Iter(train) [4/4]'):
        assert chatter in log


def test_progress_shows_one_line_per_twentieth_of_a_long_run():
    lines = []
    clock = iter(range(0, 10000, 5)).__next__
    progress = TrainProgress(1200, write=lines.append, clock=clock)
    for iteration in range(20, 1201, 20):  # the toy logs every 20
        progress.feed(f'Iter(train) [{iteration:4d}/1200]  lr: 1e-2  '
                      f'eta: 0:01:00  time: 0.5  loss: 1.5000')
        if iteration % 300 == 0:
            progress.feed('Iter(val) [25/25]    coco/bbox_mAP: 0.1000  '
                          'coco/bbox_mAP_50: 0.2000')
    shown = [int(line.split('iteration ')[1].split('/')[0])
             for line in lines if line.startswith('[train')]
    assert shown == [20] + list(range(60, 1201, 60))
    assert lines[0] == '[train 5s elapsed, ~4m55s left] iteration 20/1200, ' \
        'loss 1.5000'
    assert sum('validation at iteration' in line for line in lines) == 4
