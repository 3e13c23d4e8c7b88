"""The worker process: a set of duties, each a loop of `step()` calls (did it find work?) that sleeps,
when idle, until it is woken or its poll interval passes.

Wake-ups come from PostgreSQL's LISTEN/NOTIFY (a trigger on outbox_events notifies at commit; fan-out and
replay notify the deliveries channel), from commits in this very process (the in-process worker of the
embedded default), and otherwise from the poll. The scheduler of sync/scheduling is one more `Duty` in
the list `Worker` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import signal
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import event as orm_event

from portal.db.tenancy import TenantSession
from portal.outbox import Subscriber
from sync.delivery.engine import DELIVERIES_CHANNEL, OUTBOX_CHANNEL, DeliveryConfig, DeliveryEngine, new_worker_id
from sync.scheduling.duty import SchedulerDuty

if TYPE_CHECKING:
    from portal.services import Services

log = logging.getLogger("portal.worker")
T = TypeVar("T")


class Duty(Protocol):
    """One kind of work a worker does. `step` does one unit (a batch) and says whether it found any;
    `wakes_on` names the channels whose notifications end its idle wait early."""

    name: str
    wakes_on: tuple[str, ...]

    async def step(self) -> bool: ...


@dataclass
class FanOut:
    engine: DeliveryEngine
    name: str = "fan-out"
    wakes_on: tuple[str, ...] = (OUTBOX_CHANNEL,)

    async def step(self) -> bool:
        return await self.engine.fan_out() > 0


@dataclass
class Deliver:
    engine: DeliveryEngine
    name: str = "deliver"
    wakes_on: tuple[str, ...] = (DELIVERIES_CHANNEL,)

    async def step(self) -> bool:
        return await self.engine.deliver_batch() > 0

    async def close(self) -> None:
        await self.engine.settle()


@dataclass
class Worker:
    """Runs its duties until `stop()`: a duty's step in progress finishes (an attempt is bounded by its
    timeout), then the loop ends. A step that raises is logged and retried after a pause."""

    services: Services
    duties: Sequence[Duty]
    poll_seconds: float = 1.0
    _events: list[tuple[Duty, asyncio.Event]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self, channel: str | None = None) -> None:
        for duty, event in self._events:
            if channel is None or channel in duty.wakes_on:
                event.set()

    def stop(self) -> None:
        self._stopping.set()
        self.wake()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        self._events = [(duty, asyncio.Event()) for duty in self.duties]
        async with contextlib.AsyncExitStack() as stack:
            if self.services.db.dialect == "postgresql":
                await stack.enter_async_context(self._listening())
            await asyncio.gather(*(self._loop(duty, event) for duty, event in self._events))
            # attempts of slow receivers still running in the background end (bounded by the attempt
            # timeout) and are recorded before the worker stops
            await asyncio.gather(*(close() for duty in self.duties if (close := getattr(duty, "close", None))))

    async def _loop(self, duty: Duty, event: asyncio.Event) -> None:
        while not self.stopping:
            event.clear()
            try:
                did = await duty.step()
            except Exception:
                log.exception("%s: a step failed; trying again shortly", duty.name)
                did = False
                await asyncio.sleep(min(5.0, self.poll_seconds * 5))
            if did or self.stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.poll_seconds)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._listen())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        """One connection that LISTENs on every channel a duty wakes on; reconnects when it drops (the
        poll covers the gap)."""
        import asyncpg

        url = self.services.db.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        channels = sorted({c for duty in self.duties for c in duty.wakes_on})

        def notified(_conn: Any, _pid: int, channel: str, _payload: str) -> None:
            self.wake(channel)

        while not self.stopping:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                for channel in channels:
                    await conn.add_listener(channel, notified)
                self.wake()  # anything committed while nobody listened
                while not conn.is_closed():  # noqa: ASYNC110 (asyncpg tells of a lost connection by no event)
                    await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("listening for notifications failed (%s); polling meanwhile", exc)
                await asyncio.sleep(2.0)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)


def subscribers_of(services: Services) -> list[Subscriber]:
    return [s for component in services.components for s in component.subscribers]


def delivery_worker(
    services: Services,
    *,
    concurrency: int = 1,
    config: DeliveryConfig | None = None,
    subscribers: Sequence[Subscriber] | None = None,
    poll_seconds: float | None = None,
    worker_id: str | None = None,
    extra_duties: Sequence[Duty] = (),
    schedule: bool = True,
) -> Worker:
    """The worker `portal worker` runs: one fan-out duty and `concurrency` delivery duties (each claims
    and runs a batch at a time), over the subscribers the components register, and the scheduler of the
    jobs they register (`schedule=False` leaves it out, for a worker that only delivers)."""
    engine = DeliveryEngine(
        services,
        subscribers if subscribers is not None else subscribers_of(services),
        config,
        worker_id or new_worker_id(),
    )
    duties: list[Duty] = [FanOut(engine), *(Deliver(engine) for _ in range(max(1, concurrency))), *extra_duties]
    if schedule:
        duties.append(SchedulerDuty(services, engine.worker_id))
    if poll_seconds is None:
        poll_seconds = 2.0 if services.db.dialect == "postgresql" else 0.5
    worker = Worker(services, duties, poll_seconds)
    engine.on_new_deliveries = lambda: worker.wake(DELIVERIES_CHANNEL)
    return worker


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a worker process's main coroutine on uvloop when it is installed (it is a dependency on every
    platform but Windows): a worker's time goes mostly to its event loop's sockets (HTTP and the
    database), which uvloop runs at a fraction of the CPU of asyncio's pure-Python loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def run_until_signalled(worker: Worker) -> None:
    """Run until SIGTERM or SIGINT: then finish the steps in progress and return."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


# The in-process worker of the embedded default -----------------------------------------------------


class _CommitWake:
    """Wakes a worker when this process commits a unit of work that published an event: on the embedded
    default the web request that wrote the event and the worker share one process."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.loop = asyncio.get_running_loop()

    def __call__(self, session: Any) -> None:
        if session.info.pop("outbox_published", False):
            self.loop.call_soon_threadsafe(self.worker.wake, OUTBOX_CHANNEL)


@contextlib.asynccontextmanager
async def in_process_worker(services: Services) -> AsyncIterator[None]:
    """Run the delivery worker inside the web process when the settings say so (the embedded default).
    With several web processes, one runs it: the one holding the lock file in the data directory (the
    others try again now and then, so one takes over if its holder exits)."""
    if not services.settings.runs_worker_in_process:
        yield
        return
    worker = delivery_worker(services)
    lock_path = Path(services.settings.data_dir) / "worker.lock"
    wake = _CommitWake(worker)
    orm_event.listen(TenantSession, "after_commit", wake)

    async def hold_lock_then_run() -> None:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            while not worker.stopping:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    await asyncio.sleep(5.0)
                    continue
                try:
                    log.info("delivering outbox events in this web process (%s)", lock_path)
                    await worker.run()
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                return

    task = asyncio.create_task(hold_lock_then_run())
    try:
        yield
    finally:
        worker.stop()
        orm_event.remove(TenantSession, "after_commit", wake)
        try:
            await asyncio.wait_for(task, 40.0)
        except TimeoutError:
            task.cancel()
