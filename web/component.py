"""The web shell as a component: its pages (landing, sign-up, sign-in and password reset, console home,
workspace settings, staff users, the inbox), base layouts, error pages, static files and the language
catalogs; and the kernel's notifications (API, senders, job), stored files (serving routes, the
subscriber that removes a deleted attachment's bytes) and business calendars (API, console page, the
new tenant's default week)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal.brand import LOGO
from portal.calendars.controllers import CONTROLLERS as CALENDAR_CONTROLLERS
from portal.calendars.service import seed_calendar
from portal.components import Component
from portal.identity.session_controllers import CONTROLLERS as SESSION_CONTROLLERS
from portal.notifications.controllers import CONTROLLERS as NOTIFICATION_CONTROLLERS
from portal.notifications.senders import SUBSCRIBERS, expire_links
from portal.permissions import signed_in
from portal.schedules import ScheduledJob
from portal.storage.attachments import SUBSCRIBERS as STORAGE_SUBSCRIBERS
from portal.storage.serving import attachment_route
from web.brand import PAGES as BRAND_PAGES
from web.calendar import PAGES as CALENDAR_PAGES
from web.notifications import PAGES as NOTIFICATION_PAGES
from web.password_reset import PAGES as RESET_PAGES
from web.sessions import PAGES as SESSION_PAGES
from web.views import PAGES

HERE = Path(__file__).resolve().parent

component = Component(
    name="web",
    order=1000,
    route_handlers=[
        *PAGES,
        *NOTIFICATION_PAGES,
        *RESET_PAGES,
        *SESSION_PAGES,
        *NOTIFICATION_CONTROLLERS,
        *SESSION_CONTROLLERS,
        *CALENDAR_PAGES,
        *CALENDAR_CONTROLLERS,
        *BRAND_PAGES,
        # stored files, for pages (session cookie) and the API (bearer token); the owning feature decides
        attachment_route("/attachments/{attachment_id:uuid}"),
        attachment_route("/api/attachments/{attachment_id:uuid}", opt=signed_in("internal")),
        attachment_route("/api/partner/attachments/{attachment_id:uuid}", opt=signed_in("external")),
    ],
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    catalog_dir=HERE / "i18n",
    # The kernel's notifications (portal.notifications) are carried by the shell, the one component
    # every application has: their API, the email and SMS senders, and dropping expired one-time links.
    subscribers=(*SUBSCRIBERS, *STORAGE_SUBSCRIBERS),
    # the kernel's own stored files: a tenant's logo, shown to anyone (portal.brand)
    attachment_owners=(LOGO,),
    # the kernel's business calendars: a new tenant works Monday to Friday, 09:00 to 18:00
    tenant_setup=seed_calendar,
    jobs=(ScheduledJob("notifications.expire_links", expire_links, every=timedelta(hours=1)),),
)
