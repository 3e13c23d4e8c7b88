"""channels/ as a component: the OAuth 2.1 authorization server through which partners' applications (the
manufacturer's mobile app, or another application) act for them. Its models, the console pages and API for
clients, the consent page and the person's connected apps in the partner portal, the protocol endpoints,
and the job that purges old codes."""

from __future__ import annotations

from pathlib import Path

from channels.oauth.consent import PAGES as CONSENT_PAGES
from channels.oauth.controllers import CONTROLLERS
from channels.oauth.endpoints import ENDPOINTS
from channels.oauth.objects import OBJECTS
from channels.oauth.pages import PAGES
from channels.oauth.partner_pages import PAGES as PARTNER_PAGES
from channels.oauth.purge import PURGE_CODES
from channels.oauth.service import OAuth
from portal.components import Component
from portal.services import Services

HERE = Path(__file__).resolve().parent


def setup(services: Services) -> None:
    services.extensions["oauth"] = OAuth(services.settings, services.sessions)


component = Component(
    name="channels",
    order=350,
    model_modules=("channels.oauth.models",),
    route_handlers=[*CONTROLLERS, *ENDPOINTS, *PAGES, *CONSENT_PAGES, *PARTNER_PAGES],
    template_dir=HERE / "templates",
    objects=OBJECTS,
    services_setup=setup,
    jobs=(PURGE_CODES,),
)
