"""The operator's commands of sync/:

- `portal worker [--concurrency N] [--batch N] [--line-batch N]`: the process that delivers outbox events to
  the subscribers the components register and runs the scheduled jobs. Run as many as the work needs, on one machine or
  several: they share the work through the database. SIGTERM (or Ctrl-C) lets the batches in progress finish.
- `portal jobs list | runs NAME [--limit N] | run NAME`: the schedule. Unlike the console, `runs` prints each
  failed run's whole error text (it may quote any tenant's rows); `run` queues a run now and carries it out
  in this process, claimed like any other (once per job and minute)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from typing import Any


def register(sub: Any) -> None:
    register_worker(sub)
    register_jobs(sub)


def register_worker(sub: Any) -> None:
    parser = sub.add_parser("worker", help="deliver outbox events to subscribers (run one or more)")
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight at once (default 2)")
    parser.add_argument("--batch", type=int, default=10, help="deliveries claimed per batch (default 10)")
    parser.add_argument(
        "--line-batch",
        type=int,
        default=1,
        help="most changes sent to a paired deployment in one request (default 1: one request each)",
    )
    parser.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> None:
    from portal.cli import load_settings, with_services
    from portal.logs import configure_logging
    from sync.delivery.engine import DeliveryConfig
    from sync.delivery.worker import delivery_worker, run_event_loop, run_until_signalled, subscribers_of

    if args.concurrency < 1 or args.batch < 1 or not 1 <= args.line_batch <= 500:
        sys.exit("error: --concurrency and --batch must be at least 1, --line-batch from 1 to 500")
    settings = load_settings()
    configure_logging(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def work(services: Any) -> None:
        worker = delivery_worker(
            services,
            concurrency=args.concurrency,
            config=DeliveryConfig(batch_size=args.batch, line_batch=args.line_batch),
        )
        names = ", ".join(s.name for s in subscribers_of(services)) or "none registered"
        print(f"worker delivering to: {names}; {args.concurrency} batches of {args.batch} at a time", flush=True)
        await run_until_signalled(worker)
        print("worker stopped", flush=True)

    run_event_loop(with_services(settings, work))


def register_jobs(sub: Any) -> None:
    parser = sub.add_parser("jobs", help="scheduled jobs: the schedule, the runs and their errors, run one now")
    actions = parser.add_subparsers(dest="jobs_action", required=True)
    actions.add_parser("list", help="every job, its schedule, latest run and next due time").set_defaults(func=cmd_list)
    runs = actions.add_parser("runs", help="a job's runs, newest first, with their whole errors")
    runs.add_argument("name")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(func=cmd_runs)
    run = actions.add_parser("run", help="queue a run of the job now and carry it out here")
    run.add_argument("name")
    run.set_defaults(func=cmd_run)


def _run(work: Any) -> Any:
    from portal.cli import load_settings, with_services
    from portal.db import migrate

    settings = load_settings()
    migrate.upgrade(settings)
    return asyncio.run(with_services(settings, work))


def _moment(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def cmd_list(args: argparse.Namespace) -> None:
    from portal.db.context import SYSTEM
    from portal.db.types import utcnow
    from sync.scheduling import Schedule, registered_jobs

    async def work(services: Any) -> list[str]:
        async with services.db.session(SYSTEM, write=False) as session:
            views = await Schedule(session, registered_jobs(services)).overview(utcnow())
        lines = []
        for view in views:
            when = f"daily at {view.job.at.strftime('%H:%M')} UTC" if view.job.at else f"every {view.period}"
            last = view.last
            state = f"{last.status} {_moment(last.started_at or last.requested_at)}" if last else "never run"
            due = "now" if view.next_due <= utcnow() else _moment(view.next_due)
            lines.append(f"{view.name}: {when}; last: {state}; next due: {due}")
        return lines

    print("\n".join(_run(work)) or "no scheduled jobs")


def cmd_runs(args: argparse.Namespace) -> None:
    from portal.db.context import SYSTEM
    from portal.errors import NotFound
    from sync.scheduling import Schedule, registered_jobs

    async def work(services: Any) -> list[str]:
        async with services.db.session(SYSTEM, write=False) as session:
            runs, total = await Schedule(session, registered_jobs(services)).runs(args.name, limit=args.limit)
        lines = [f"{total} runs of {args.name}"]
        for run in runs:
            manual = " (run now)" if run.manual else ""
            lines.append(
                f"{_moment(run.due_at)}{manual} attempt {run.attempt}: {run.status}, started {_moment(run.started_at)}"
                f", finished {_moment(run.finished_at)}, items {run.items if run.items is not None else '-'}"
                f", worker {run.worker or '-'}" + (f"\n    {run.error}" if run.error else "")
            )
        return lines

    try:
        print("\n".join(_run(work)))
    except NotFound:
        sys.exit(f"error: no scheduled job {args.name!r}")


def cmd_run(args: argparse.Namespace) -> None:
    from portal.db.context import SYSTEM
    from portal.db.types import utcnow
    from portal.errors import NotFound
    from sync.scheduling import JobRun, Schedule, SchedulerDuty, registered_jobs

    async def work(services: Any) -> str:
        jobs = registered_jobs(services)
        async with services.db.session(SYSTEM) as session:
            run, queued = await Schedule(session, jobs).request_run(args.name, utcnow())
            run_id = run.id
        if not queued:
            return f"a run of {args.name} was already asked for this minute: {run.status}"
        job = next(j for j in jobs if j.name == args.name)
        await SchedulerDuty(services, f"cli:{socket.gethostname()}:{os.getpid()}", jobs=[job]).step()
        async with services.db.session(SYSTEM, write=False) as session:
            done = await session.get(JobRun, run_id)
        assert done is not None
        if done.status == "queued":  # a worker took another run of this job first: this one waits for it
            return f"{args.name}: queued, a worker runs it"
        return f"{args.name}: {done.status}, {done.items if done.items is not None else 0} items" + (
            f"\n    {done.error}" if done.error else ""
        )

    try:
        print(_run(work))
    except NotFound:
        sys.exit(f"error: no scheduled job {args.name!r}")
