"""channels/ as a component: the OAuth 2.1 authorization server through which partners' applications (the
manufacturer's mobile app, or another application) act for them. Its models, the console pages and API for
clients, the consent page and the person's connected apps in the partner portal, the protocol endpoints,
and the job that purges old codes. The manufacturer's WeChat mini-program and official account: their
registrations (console pages and API), the sign-in partners use from the mini-program, and the partner
portal's pages signing them in inside the official account. And the tenant's partner domain (console page
and API), proved with a DNS record, at which its partner portal is served (portal.http.hosts)."""

from __future__ import annotations

from pathlib import Path

from channels.domains.controllers import CONTROLLERS as DOMAIN_CONTROLLERS
from channels.domains.dependencies import EXTENSION as DOMAINS
from channels.domains.dependencies import DomainChecks
from channels.domains.objects import OBJECTS as DOMAIN_OBJECTS
from channels.domains.pages import PAGES as DOMAIN_PAGES
from channels.oauth.consent import PAGES as CONSENT_PAGES
from channels.oauth.controllers import CONTROLLERS
from channels.oauth.endpoints import ENDPOINTS
from channels.oauth.objects import OBJECTS
from channels.oauth.pages import PAGES
from channels.oauth.partner_pages import PAGES as PARTNER_PAGES
from channels.oauth.purge import PURGE_CODES
from channels.oauth.service import OAuth
from channels.wechat.controllers import CONTROLLERS as WECHAT_CONTROLLERS
from channels.wechat.objects import OBJECTS as WECHAT_OBJECTS
from channels.wechat.official.console import PAGES as OFFICIAL_CONSOLE_PAGES
from channels.wechat.official.controllers import CONTROLLERS as OFFICIAL_CONTROLLERS
from channels.wechat.official.portal_pages import PAGES as OFFICIAL_PORTAL_PAGES
from channels.wechat.pages import PAGES as WECHAT_PAGES
from channels.wechat.service import WeChat, pooled_client
from channels.wechat.templates import SUBSCRIBERS as TEMPLATE_SENDERS
from channels.wechat.templates import available, reach
from portal.components import Component
from portal.services import Services

HERE = Path(__file__).resolve().parent


def setup(services: Services) -> None:
    services.extensions["oauth"] = OAuth(services.settings, services.sessions)
    services.extensions["wechat"] = WeChat(services)
    # notifications to partners as template messages of the official account (channels.wechat.templates)
    services.notifications.wechat_reach = reach
    services.notifications.wechat_available = available
    services.extensions[DOMAINS] = DomainChecks()


component = Component(
    name="channels",
    order=350,
    model_modules=("channels.oauth.models", "channels.wechat.models", "channels.domains.models"),
    route_handlers=[
        *CONTROLLERS,
        *ENDPOINTS,
        *PAGES,
        *CONSENT_PAGES,
        *PARTNER_PAGES,
        *WECHAT_CONTROLLERS,
        *WECHAT_PAGES,
        *DOMAIN_CONTROLLERS,
        *DOMAIN_PAGES,
        *OFFICIAL_CONTROLLERS,
        *OFFICIAL_CONSOLE_PAGES,
        *OFFICIAL_PORTAL_PAGES,
    ],
    template_dir=HERE / "templates",
    objects=(*OBJECTS, *WECHAT_OBJECTS, *DOMAIN_OBJECTS),
    services_setup=setup,
    jobs=(PURGE_CODES,),
    subscribers=TEMPLATE_SENDERS,
    lifespan=pooled_client,
)
