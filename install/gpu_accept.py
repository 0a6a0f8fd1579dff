"""``make gpu-accept``: one acceptance run on a GPU node, from a fresh
checkout and a wheelhouse, offline (docs/gpu.md).

Stages, in order, each a process of its own with its own time cap, all
within one budget (9 minutes on one H200, the mmcv build included):

- ``setup``: install/setup_env.sh (mmcv built for the visible GPU, its ops
  proven there);
- ``gpu-check``: tools/misc/gpu_check.py (ops against the CPU's, AMP fp16
  and bf16 steps, iterations and a test through the launchers);
- ``resume``: tools/misc/resume_check.py (SIGTERM half-way through
  tools/dist_train.sh, ``--resume`` to the end, weights against an
  uninterrupted run's);
- ``bench-b2``, ``bench-b16``: tools/analysis_tools/benchmark_train.py
  against stock MMDetection at batch 2 and 16, fp32, amp-bf16, amp-fp16
  and channels-last, with a loss check.

A stage runs, passes, fails, is cut (its cap or the budget ran out) or is
skipped (the set-up failed, or no budget was left to start it); the
summary says which and why. Writes OUT/gpu_accept.json and
OUT/gpu_accept.log, prints a table. ``--toy`` is the rehearsal the tests
run: the same stages on CPU processes at toy size, never a GPU result.
Standard library only: it runs before the environment exists::

    python3 install/gpu_accept.py --out DIR [--budget 540] [--toy]
"""
import argparse
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROW = 'configs/schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
TOY = ('configs/toy/'
       'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')
BENCH = 'tools/analysis_tools/benchmark_train.py'
GPU_MODES = ['fp32', 'amp-bf16', 'amp-fp16', 'channels-last',
             'amp-bf16+channels-last+fixed-shapes']
# (name, cap in seconds on one H200). The set-up's is the mmcv build (261 s
# measured on 16 cores) and the installs from the wheelhouse.
CAPS = (('setup', 330), ('gpu-check', 75), ('resume', 60),
        ('bench-b2', 60), ('bench-b16', 90))
TOY_CAP = 240


def stage_commands(python: str, out: str, toy: bool) -> Dict[str, List[str]]:
    """The command line of each stage after the set-up."""
    if toy:
        size, device = ['--image-size', '64'], ['--device', 'cpu']
        check = ['--config', TOY, '--iters', '2', '--val-images', '2']
        resume = ['--config', TOY, '--iters', '4']
        bench = [TOY, '--vs', TOY, '--input-size', '64', '--warmup', '0',
                 '--iters', '1']
        batches, modes = (2, 4), ['fp32']
        loss = ['--loss-check', '2', '--loss-window', '4']
    else:
        size, device, check, resume = [], [], [], []
        bench = [ROW, '--vs', '--warmup', '3', '--iters', '8']
        batches, modes = (2, 16), GPU_MODES
        # 200 fp32 iterations at batch 2 against 25 at batch 16, same
        # images, for the mode that was fastest.
        loss = ['--loss-check', '200', '--loss-check-fastest']
    commands = {
        'gpu-check': [python, 'tools/misc/gpu_check.py', *check, *size,
                      *device, '--work-dir', osp.join(out, 'gpu_check')],
        'resume': [python, 'tools/misc/resume_check.py', *resume, *size,
                   *device, '--work-dir', osp.join(out, 'resume_check')]}
    # The toy's batches 2 and 4 stand for 2 and 16.
    for name, batch in zip(('bench-b2', 'bench-b16'), batches):
        commands[name] = [python, BENCH, *bench, '--batch-size', str(batch),
                          '--modes', *modes, *(loss if batch > 2 else []),
                          '--json', osp.join(out, f'{name}.json')]
    return commands


def run_stage(command: List[str], cap: float, log, env: Dict[str, str]
              ) -> Tuple[str, str, float]:
    """(status, why, seconds) of one stage; its output goes to ``log``."""
    start = time.time()
    log.write(f'\n===== {" ".join(command)} (cap {cap:.0f} s)\n')
    log.flush()
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        log.write(output)
        return 'cut', f'still running after its cap of {cap:.0f} s', \
            time.time() - start
    log.write(output)
    lines = [line for line in output.splitlines() if line.strip()]
    seconds = time.time() - start
    if process.returncode == 0:
        return 'passed', lines[-1] if lines else '', seconds
    errors = [line for line in lines if 'error' in line.lower()]
    why = (errors or lines or ['(no output)'])[-1]
    return 'failed', f'exit {process.returncode}: {why}', seconds


def bench_figures(path: str) -> Tuple[dict, Optional[str]]:
    """The figures of a benchmark stage (its --json) and, where a loss
    check differs, why the stage fails."""
    with open(path) as f:
        result = json.load(f)
    rows = result['rows']
    ours = [r for r in rows if r['config'] == rows[0]['config']]
    best = max(ours, key=lambda r: r['images_s'])
    base = result.get('baseline')
    figures = {'device': result['device'], 'best_mode': best['mode'],
               'batch_size': best['batch_size'],
               'images_s': round(best['images_s'], 2),
               'memory_mib': round(best['memory_mb']),
               'x_stock_fp32_b2': round(best['images_s'] / base['images_s'],
                                        3) if base else None,
               'rows': rows, 'loss_checks': result['loss_checks']}
    differs = [c['mode'] for c in result['loss_checks'] if not c['ok']]
    why = f'loss check differs: {", ".join(differs)}' if differs else None
    return figures, why


def commands_for(out: str, toy: bool, venv: str,
                 only: Sequence[str] = ()) -> Dict[str, List[str]]:
    """The set-up, then every stage (or those named in ``only``); the
    launchers those stages start use the set-up's environment."""
    python = osp.join(venv, 'bin', 'python')
    stages = stage_commands(python, out, toy)
    return {'setup': ['bash', 'install/setup_env.sh'],
            **{name: ['env', f'PYTHON={python}', *command]
               for name, command in stages.items()
               if not only or name in only}}


def accept(out: str, budget: float, commands: Dict[str, List[str]],
           caps: Dict[str, float], env: Dict[str, str], **facts) -> dict:
    """Runs ``commands`` in order (the first is the set-up, which the
    others need) within ``budget`` seconds; returns the summary, with
    ``facts`` (also written to OUT)."""
    os.makedirs(out, exist_ok=True)
    start = time.time()
    stages = []
    with open(osp.join(out, 'gpu_accept.log'), 'w') as log:
        for name, command in commands.items():
            left = budget - (time.time() - start)
            stage = {'stage': name, 'command': ' '.join(command),
                     'cap_s': caps[name]}
            if stages and stages[0]['status'] != 'passed':
                stage.update(status='skipped', seconds=0,
                             why=f'{stages[0]["stage"]} did not pass')
            elif left < 1:
                stage.update(status='skipped', seconds=0,
                             why=f'the budget of {budget:.0f} s was spent')
            else:
                cap = min(caps[name], left)
                status, why, seconds = run_stage(command, cap, log, env)
                if status == 'cut' and cap < caps[name]:
                    why = (f'cut at {cap:.0f} s: the budget of '
                           f'{budget:.0f} s ran out')
                figures = osp.join(out, f'{name}.json')
                if status == 'passed' and osp.isfile(figures):
                    stage['figures'], failure = bench_figures(figures)
                    f = stage['figures']
                    status, why = ('failed', failure) if failure else (
                        status, f'best {f["best_mode"]}: {f["images_s"]} '
                        f'images/s ({f["x_stock_fp32_b2"]}x stock fp32 '
                        f'batch 2), {f["memory_mib"]} MiB')
                stage.update(status=status, why=why,
                             seconds=round(seconds, 1))
            stages.append(stage)
    summary = {**facts, 'budget_s': budget,
               'total_s': round(time.time() - start, 1), 'stages': stages,
               'passed': all(s['status'] == 'passed' for s in stages),
               'date': time.strftime('%Y-%m-%d %H:%M:%S %Z')}
    with open(osp.join(out, 'gpu_accept.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


def table(summary: dict) -> str:
    rows = [f'{"stage":<10} {"status":<8} {"s":>6}  result']
    for s in summary['stages']:
        rows.append(f'{s["stage"]:<10} {s["status"]:<8} '
                    f'{s["seconds"]:>6.0f}  {s["why"][:100]}')
    verdict = 'passed' if summary['passed'] else 'NOT passed'
    rows.append(f'gpu-accept {verdict} in {summary["total_s"]:.0f} s '
                f'(budget {summary["budget_s"]:.0f} s)')
    return '\n'.join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='summary and log here')
    parser.add_argument('--budget', type=float, default=540,
                        help='seconds for all stages (default: 540)')
    parser.add_argument('--toy', action='store_true',
                        help='rehearsal on CPU processes at toy size')
    parser.add_argument('--stages', nargs='+', metavar='STAGE',
                        choices=[name for name, _ in CAPS[1:]],
                        help='run only these after the set-up (default: '
                        'all)')
    parser.add_argument('--venv', default=os.environ.get('VENV', '.venv'),
                        help='the environment to set up and use '
                        '(default: $VENV, else .venv)')
    args = parser.parse_args(argv)
    venv = osp.join(REPO_ROOT, args.venv) if not osp.isabs(args.venv) \
        else args.venv
    env = dict(os.environ, VENV=venv, PYTHONUNBUFFERED='1')
    # The image's torch is kept, also when python3 runs in a venv.
    env.setdefault('SYSTEM_SITE_PACKAGES', '1')
    caps = {name: TOY_CAP if args.toy else cap for name, cap in CAPS}
    commands = commands_for(args.out, args.toy, venv, args.stages or ())
    summary = accept(args.out, args.budget, commands, caps, env,
                     toy=args.toy)
    print(table(summary))
    print(f'summary: {osp.join(args.out, "gpu_accept.json")}, log: '
          f'{osp.join(args.out, "gpu_accept.log")}')
    return 0 if summary['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
