"""Components: how the packages built on the kernel plug into it without the kernel importing them.

Each top-level package exposes a `Component` under the "portal.components" entry-point group (see
pyproject.toml): its routes, templates, static files, translation catalogs, model modules (so Alembic
and the ORM know its tables) and its part of `portal demo`.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.home import HomeWidget
from portal.notifications.kinds import NotificationKind
from portal.outbox import Subscriber
from portal.permissions import ProtectedObject
from portal.schedules import ScheduledJob
from portal.storage.attachments import AttachmentOwner

if TYPE_CHECKING:
    from portal.services import Services

DemoStep = Callable[["Services", dict[str, Any]], Awaitable[None]]
# Runs inside the sign-up transaction of a new tenant (e.g. to seed its partner types and quotas).
TenantSetup = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]
# Runs once when the application's services are built (e.g. to register a session principal loader).
ServicesSetup = Callable[["Services"], None]

GROUP = "portal.components"


@dataclass(frozen=True)
class Component:
    name: str
    order: int = 100
    route_handlers: Sequence[Any] = ()
    template_dir: Path | None = None
    static_dir: Path | None = None
    catalog_dir: Path | None = None
    model_modules: Sequence[str] = ()
    demo: DemoStep | None = None
    tenant_setup: TenantSetup | None = None
    services_setup: ServicesSetup | None = None
    objects: Sequence[ProtectedObject] = ()
    dependencies: dict[str, Any] = field(default_factory=dict)
    # Adds subcommands to the `portal` command: called with argparse's subparsers object.
    cli: Callable[[Any], None] | None = None
    template_globals: dict[str, Any] = field(default_factory=dict)
    # Receivers of outbox events and periodic jobs, run by the workers (sync/).
    subscribers: Sequence[Subscriber] = ()
    jobs: Sequence[ScheduledJob] = ()
    # Background work that lives as long as the web application (entered at startup, left at shutdown),
    # e.g. the embedded default's in-process delivery worker.
    lifespan: Callable[[Services], AbstractAsyncContextManager[None]] | None = None
    # Kinds of notification to people this package sends (portal.notifications), with their templates
    # in its template_dir.
    notification_kinds: Sequence[NotificationKind] = ()
    # Kinds of record this package attaches files to, each with the check of who may read them
    # (portal.storage): the kernel serves a file only when its owner says yes.
    attachment_owners: Sequence[AttachmentOwner] = ()
    # Widgets a partner's home may show (portal.home); each role's admin picks them per channel.
    home_widgets: Sequence[HomeWidget] = ()
    extra: dict[str, Any] = field(default_factory=dict)


KERNEL_MODEL_MODULES = (
    "portal.identity.models",
    "portal.crm.models",
    "portal.crm.accounts",  # not a table: the hook publishing every change of an account
    "portal.audit",
    "portal.idempotency",
    "portal.outbox",
    "portal.notifications.models",
    "portal.storage.models",
    "portal.calendars.models",
)


def load_components() -> list[Component]:
    found = [ep.load() for ep in entry_points(group=GROUP)]
    return sorted(found, key=lambda c: (c.order, c.name))


def import_models(components: Sequence[Component]) -> None:
    for module in (*KERNEL_MODEL_MODULES, *(m for c in components for m in c.model_modules)):
        importlib.import_module(module)
