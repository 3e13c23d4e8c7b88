"""Interconnect's pages. The upstream admin console for the partner programme: partner types, tiers and
regions; partner enterprises (search, create, status); invitations with QR codes; bulk import and export.
The partner portal: sign-in, the workspace switcher, joining by invitation and one-time password links.

Pages call the interconnect services (the same ones the JSON API uses) inside the request's unit of
work. A refused form is re-rendered with its field errors; everything else goes to the one error mapper.

The package: programme (types, tiers, regions), enterprises, invitations, import_export,
programme_settings (what the console pages show of the programme) and partner_portal; PAGES lists every
page for the interconnect component. The pages showing people with their roles are roles' (roles.pages.people).
"""

from __future__ import annotations

from typing import Any

from litestar import Router

from interconnect.dependencies import DEPENDENCIES
from interconnect.pages.enterprises import (
    create_enterprise_page,
    edit_enterprise,
    edit_enterprise_form,
    enterprise_status,
    enterprises_page,
    external_user_sign_out,
    external_user_status,
    new_enterprise_form,
    resend_setup_link_page,
    terminate_confirmation,
)
from interconnect.pages.import_export import export_enterprises_page, import_form, import_progress, start_import
from interconnect.pages.invitations import create_invitation_page, invitations_page, revoke_invitation_page
from interconnect.pages.notifications import NOTIFICATION_PAGES
from interconnect.pages.partner_portal import PARTNER_PAGES
from interconnect.pages.programme import (
    add_partner_type,
    add_region,
    add_tier,
    programme_page,
    update_partner_type,
    update_tier,
)
from interconnect.pages.programme_settings import percent
from interconnect.pages.sessions import SESSION_PAGES

__all__ = ["PAGES", "TEMPLATE_GLOBALS"]

CONSOLE_PAGES: list[Any] = [
    programme_page,
    add_partner_type,
    add_tier,
    add_region,
    update_partner_type,
    update_tier,
    enterprises_page,
    new_enterprise_form,
    create_enterprise_page,
    terminate_confirmation,
    edit_enterprise_form,
    edit_enterprise,
    enterprise_status,
    external_user_sign_out,
    external_user_status,
    resend_setup_link_page,
    invitations_page,
    create_invitation_page,
    revoke_invitation_page,
    import_form,
    start_import,
    import_progress,
    export_enterprises_page,
]
PAGES: list[Any] = [
    # the console's pages at their full paths, with interconnect's services named once for all of them
    Router(path="/", route_handlers=CONSOLE_PAGES, dependencies=DEPENDENCIES),
    *NOTIFICATION_PAGES,
    *SESSION_PAGES,
    *PARTNER_PAGES,
]
TEMPLATE_GLOBALS: dict[str, Any] = {"percent": percent}
