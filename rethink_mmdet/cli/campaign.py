"""``tools/campaign.py``: the paper's rows as one campaign.

    tools/campaign.py plan [SET|CONFIG|GLOB ...] [--cost ...]
    tools/campaign.py submit SET|CONFIG|GLOB ... --campaign-dir DIR \\
        [--executor local|slurm] [--dry-run] [--resume-failed]
    tools/campaign.py status --campaign-dir DIR [--watch [SECONDS]]
    tools/campaign.py collect --campaign-dir DIR
"""
import argparse
import time
from typing import Optional, Sequence

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.local_executor import LocalExecutor, RowHooks
from rethink_mmdet.campaign.row_sets import Row, rows_from, set_table
from rethink_mmdet.campaign.row_status import format_states, row_state
from rethink_mmdet.campaign.slurm_executor import SlurmExecutor, SlurmOptions
from rethink_mmdet.runner import UsageError
from rethink_mmdet.runner.launch import validation_metric


def _rows_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('rows', nargs='*', metavar='SET|CONFIG|GLOB',
                        help='paper sets (tools/campaign.py plan lists '
                        'them) or config files/globs')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='overrides for every row, as tools/train.py\'s')
    parser.add_argument('--data-root', help="every row's --data-root")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    plan = commands.add_parser('plan', help='list the sets, or the rows of '
                               'some (and what they cost)')
    _rows_arguments(plan)
    plan.add_argument('--cost', action='store_true',
                      help='GPU-hours per row and wall time on N nodes')
    plan.add_argument('--seconds-per-iter', type=float,
                      help='for --cost: seconds per iteration of a row')
    plan.add_argument('--benchmark', metavar='JSON',
                      help="for --cost: benchmark_train.py --json's figures")
    plan.add_argument('--nodes', type=int, nargs='+', default=[1, 4, 8],
                      help='for --cost: node counts (8 GPUs each)')
    plan.add_argument('--markdown', action='store_true',
                      help='for --cost: a Markdown table')

    submit = commands.add_parser('submit', help='run or queue the rows')
    _rows_arguments(submit)
    submit.add_argument('--campaign-dir', required=True)
    submit.add_argument('--executor', choices=['local', 'slurm'],
                        default='local')
    submit.add_argument('--dry-run', action='store_true',
                        help='print what would run (every sbatch line)')
    submit.add_argument('--resume-failed', action='store_true',
                        help='restart failed rows from their last '
                        'checkpoint')
    submit.add_argument('--track', nargs='+', default=[],
                        choices=['tensorboard', 'wandb'],
                        help='live tracking, one run per row across '
                        'requeues and resumes')
    submit.add_argument('--jobs', type=int, default=1,
                        help='local: rows at a time (default: 1)')
    slurm = submit.add_argument_group('slurm')
    slurm.add_argument('--nodes', type=int, default=1)
    slurm.add_argument('--gpus-per-node', type=int, default=8,
                       help='0: CPU processes on gloo')
    slurm.add_argument('--cpus-per-task', type=int, default=5)
    slurm.add_argument('--partition')
    slurm.add_argument('--account')
    slurm.add_argument('--qos')
    slurm.add_argument('--time', default='24:00:00',
                       help="each run's limit; longer rows are requeued")
    slurm.add_argument('--signal-before', type=int, default=300,
                       help='seconds before the limit the row saves')
    slurm.add_argument('--sbatch-args', nargs='+', default=[],
                       help='more sbatch options, as given')

    status = commands.add_parser('status', help='one line per row')
    status.add_argument('--campaign-dir', required=True)
    status.add_argument('--watch', type=float, nargs='?', const=60.0,
                        metavar='SECONDS',
                        help='repeat every SECONDS until every row ended')
    collect = commands.add_parser('collect', help='tables, published '
                                  'checkpoints, metafile')
    collect.add_argument('--campaign-dir', required=True)
    return parser.parse_args(argv)


def _plan_rows(args) -> list:
    options = (['--cfg-options', *args.cfg_options] if args.cfg_options
               else []) + (['--data-root', args.data_root]
                           if args.data_root else [])
    return rows_from(args.rows, options)


def plan(args) -> int:
    if not args.rows:
        for name, count, what in set_table():
            print(f'{name:<12} {count:>3} rows  {what}')
        return 0
    rows = _plan_rows(args)
    if args.cost:
        from rethink_mmdet.campaign.cost import estimate_for, format_cost
        print(format_cost(estimate_for(
            rows, args.seconds_per_iter, args.benchmark,
            nodes=tuple(args.nodes)), markdown=args.markdown))
        return 0
    for row in rows:
        schedule = (f'evaluates {row.tta_of}' if row.tta_of
                    else f'{row.max_iters} iterations')
        print(f'{row.name}  {schedule}')
    print(f'{len(rows)} rows')
    return 0


class _Printed(RowHooks):
    """The local executor's rows on the screen: starts, validations, ends."""

    def start(self, row: Row, start_iter: int) -> None:
        after = f' after iteration {start_iter}' if start_iter else ''
        print(f'[{row.name}] started{after}', flush=True)

    def line(self, row: Row, line: str) -> None:
        metric = validation_metric(line)
        if metric:
            print(f'[{row.name}] validation {metric}', flush=True)

    def end(self, row: Row, status: int) -> None:
        print(f'[{row.name}] exited {status}', flush=True)

    def skip(self, row: Row, why: str) -> None:
        print(f'[{row.name}] not run: {why}', flush=True)


def submit(args) -> int:
    rows = _plan_rows(args) if args.rows else None
    campaign = Campaign.open(args.campaign_dir, rows,
                             write=not args.dry_run)
    extra = [arg for tracker in args.track for arg in ('--track', tracker)]
    chosen = []
    for row in campaign.rows:
        state = row_state(campaign, row) if not args.dry_run else None
        if state is None or state.state == 'planned' or (
                state.state == 'failed' and args.resume_failed):
            chosen.append(row)
        elif state.state == 'failed':
            print(f'{row.name}: failed ({state.note}); --resume-failed '
                  'restarts it from its last checkpoint')
        else:
            print(f'{row.name}: {state.state}, not submitted again')
    if args.executor == 'slurm':
        options = SlurmOptions(
            args.nodes, args.gpus_per_node, args.cpus_per_task, args.time,
            args.signal_before, args.partition, args.account, args.qos,
            sbatch_args=args.sbatch_args)
        ids = SlurmExecutor(campaign, options, extra).submit(
            chosen, dry_run=args.dry_run)
        print(f'{len(ids)} rows submitted' + (' (dry run)'
                                              if args.dry_run else ''))
        return 0
    if args.dry_run:
        from rethink_mmdet.campaign.local_executor import row_run
        for row in chosen:
            print(' '.join(row_run(campaign, row, extra).command()))
        return 0
    LocalExecutor(campaign, args.jobs, _Printed(), extra).run(chosen)
    states = [row_state(campaign, row) for row in campaign.rows]
    print(format_states(states))
    return 0 if all(s.state == 'done' for s in states) else 1


def status(args) -> int:
    campaign = Campaign.open(args.campaign_dir)
    while True:
        states = [row_state(campaign, row) for row in campaign.rows]
        print(format_states(states), flush=True)
        if not args.watch or all(s.final for s in states):
            return 0 if all(s.state == 'done' for s in states) else 1
        time.sleep(args.watch)
        print()


def collect(args) -> int:
    from rethink_mmdet.campaign.collect import collect as collect_rows
    campaign = Campaign.open(args.campaign_dir)
    written = collect_rows(campaign)
    for what in ('tables', 'metafile', 'model_index'):
        print(f'{what}: {written[what]}')
    for row, path in written['published'].items():
        print(f'{row}: published {path}')
    for row, why in written['problems'].items():
        print(f'{row}: not collected: {why}')
    if written['waiting']:
        print(f'not finished: {", ".join(written["waiting"])}')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.command != 'plan' and args.command != 'submit' and getattr(
            args, 'rows', None):
        raise UsageError('rows are given to plan and submit only')
    return dict(plan=plan, submit=submit, status=status,
                collect=collect)[args.command](args)
