"""The application factory: settings → services → Litestar app with every component's routes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RapidocRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from portal import i18n, timezones
from portal.components import Component, import_models, load_components
from portal.config import Settings
from portal.db.engine import Database
from portal.http.context import SESSION_COOKIE, RequestContextMiddleware
from portal.http.deps import DEPENDENCIES
from portal.http.guard import check_routes, permission_guard
from portal.http.headers import security_headers
from portal.http.hosts import PartnerDomainMiddleware, page_address
from portal.http.idempotent import PortalResponse, Replayed, check_creating_routes, replay
from portal.http.inputs import InputCheckMiddleware
from portal.http.kernel_routes import KERNEL_ROUTES
from portal.http.openapi import COMPONENTS, document
from portal.http.problems import handle_exception
from portal.identity.controllers import AuthController, UsersController
from portal.identity.tokens import derive_key
from portal.logs import configure_logging
from portal.services import Services
from portal.ui import TEMPLATE_DIR as KIT_TEMPLATES
from portal.ui.checks import can
from portal.ui.labels import label, setting_name

DOCS_PATH = "/api/docs"
CSRF_COOKIE = "portal_csrf"


def template_environment(components: list[Component]) -> Environment:
    env = Environment(
        loader=FileSystemLoader([*(str(c.template_dir) for c in components if c.template_dir), str(KIT_TEMPLATES)]),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    env.globals["current_language"] = i18n.current_language
    env.globals["time_zones"] = timezones.time_zone_names
    env.globals["locale_time_zone"] = lambda: timezones.check_time_zone(None, i18n.current_language())
    env.filters["when"] = timezones.when
    env.filters["day"] = timezones.day
    # the UI kit's helpers, for every feature's pages; a page's own address as its visitor's browser knows
    # it (on a partner domain without /p/<slug>), for a form that comes back to it
    env.globals.update(label=label, setting_name=setting_name, can=can, page_address=page_address)
    for component in components:
        env.globals.update(component.template_globals)
    return env


def _lifespan_of(component: Component, services: Services) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    assert component.lifespan is not None
    run = component.lifespan
    return lambda _app: run(services)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    extra_components: Sequence[Component] = (),
) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(logging.INFO if settings.is_production else logging.WARNING)
    components = [*load_components(), *extra_components]
    import_models(components)
    catalogs = i18n.Catalogs(
        [c.catalog_dir for c in components if c.catalog_dir], settings.languages, settings.default_language
    )
    services = Services.build(settings, catalogs, components, database)
    env = template_environment(components)
    env.globals.update(languages=settings.languages, session_cookie=SESSION_COOKIE)

    static = create_static_files_router(
        path="/static",
        directories=[c.static_dir for c in components if c.static_dir],
        opt={"public": True},
        include_in_schema=False,
    )
    app = Litestar(
        route_handlers=[
            *KERNEL_ROUTES,
            AuthController,
            UsersController,
            *(handler for c in components for handler in c.route_handlers),
            static,
        ],
        dependencies={
            **DEPENDENCIES,
            **{k: v for c in components for k, v in c.dependencies.items()},
        },
        middleware=[RequestContextMiddleware(), InputCheckMiddleware()],
        guards=[permission_guard],
        before_send=[security_headers(settings, DOCS_PATH)],
        exception_handlers={Replayed: replay, Exception: handle_exception},
        response_class=PortalResponse,
        csrf_config=CSRFConfig(
            secret=derive_key(settings.secret_key, "csrf").hex(),
            cookie_name=CSRF_COOKIE,
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            cookie_httponly=True,
            exclude=["^/api/", "^/health$"],
        ),
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)),
        openapi_config=OpenAPIConfig(
            title="Connected partner portal API",
            version="0.1.0",
            description="Problem details (RFC 9457) on every error; bearer tokens from /api/auth/token.",
            path=DOCS_PATH,
            components=COMPONENTS,
            render_plugins=[
                RapidocRenderPlugin(
                    js_url="/static/vendor/rapidoc/rapidoc-min.js",
                    path="/",
                    favicon="<link rel='icon' href='/static/img/logo.svg'>",
                ),
                JsonRenderPlugin(path="/openapi.json"),
            ],
            openapi_router=Router(path=DOCS_PATH, route_handlers=[], opt={"public": True}, include_in_schema=False),
        ),
        request_max_body_size=settings.max_body_bytes,
        state=State({"services": services}),
        on_startup=[services.db.check_serving_role] if settings.is_production else [],
        on_shutdown=[services.db.dispose],
        lifespan=[_lifespan_of(c, services) for c in components if c.lifespan is not None],
        debug=False,
    )
    # outside the router: a partner domain's paths are mapped before a route is chosen for them
    app.asgi_handler = PartnerDomainMiddleware(app.asgi_handler, services.partner_hosts)
    check_routes(app, services.objects)
    check_creating_routes(app)
    document(app)
    return app
