"""The sync package as a component: outbound webhooks (their tables, permission, API, console pages and
the "webhooks" outbox subscriber)."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from portal.services import Services
from sync.pages.webhooks import PAGES
from sync.webhooks.config import WebhookConfig
from sync.webhooks.controllers import CONTROLLERS
from sync.webhooks.objects import OBJECTS
from sync.webhooks.secrets import SecretBox
from sync.webhooks.service import Webhooks
from sync.webhooks.subscriber import SUBSCRIBER

TEMPLATES = Path(__file__).resolve().parent / "templates"


def setup(services: Services) -> None:
    config = WebhookConfig.from_extra(services.settings.extra)
    services.extensions["webhooks"] = Webhooks(config, SecretBox(services.settings.secret_key))


component = Component(
    name="sync",
    order=400,
    model_modules=("sync.webhooks.models",),
    route_handlers=[*CONTROLLERS, *PAGES],
    objects=OBJECTS,
    template_dir=TEMPLATES,
    services_setup=setup,
    subscribers=(SUBSCRIBER,),
)
