"""The partner's JSON API (mini-program, app): sign-in, workspaces, invitations, colleague management."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from interconnect.dependencies import DEPENDENCIES, PeopleDep
from interconnect.invitations import Acceptance
from interconnect.people import NewPerson
from interconnect.schemas import (
    AcceptedOut,
    AcceptIn,
    ColleagueIn,
    InvitedColleagueOut,
    MemberOut,
    MemberPage,
    MemberStatusIn,
    PartnerMeOut,
    PartnerTokenIn,
    SetupIn,
    WorkspaceOut,
)
from interconnect.services import InterconnectDep
from portal.errors import Conflict, ValidationFailed
from portal.http.context import DEVICE_HEADER, sign_in_client
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.idempotent import shown_once
from portal.i18n import N_
from portal.identity.schemas import TokenOut
from portal.identity.session_controllers import SessionsEndedOut
from portal.identity.sessions import OpenedSession
from portal.identity.signed_in import end_sessions_of
from portal.permissions import not_delegated, public, requires
from portal.services import Services


class PartnerAuthController(Controller):
    path = "/api/partner"
    tags = ["partner: access"]

    @post("/auth/token", opt=public(401, 429), status_code=200)
    async def token(
        self,
        data: JSONBody[PartnerTokenIn],
        db: DB,
        interconnect: InterconnectDep,
        services: ServicesDep,
        request: Request[Any, Any, Any],
    ) -> Response[TokenOut]:
        """Sign in to a manufacturer's partner portal with an email or mobile number. The
        `X-Portal-Device` response header is a device credential: sent back on later sign-ins, it keeps
        this client signing in while someone else's wrong guesses hold back other clients."""
        signed_in = await interconnect.access.log_in(
            db, data.workspace, data.login, data.password, "api", sign_in_client(request)
        )
        return token_response(services, signed_in.opened, signed_in.device)

    @post("/invitations/accept", opt=public(401, 404, 409, 410, 429), status_code=HTTP_201_CREATED)
    async def accept(
        self, data: JSONBody[AcceptIn], db: DB, interconnect: InterconnectDep, request: Request[Any, Any, Any]
    ) -> AcceptedOut:
        """Accept an invitation link (`token`) or a published code (`workspace` + `code`): creates the
        enterprise and its first admin. A person who has a partner login gives its password."""
        if not data.token and not (data.workspace and data.code):
            raise ValidationFailed.single("token", N_("give an invitation link, or a workspace and an invite code"))
        accepted = await interconnect.onboarding.accept(
            db,
            Acceptance(
                data.enterprise_name, NewPerson(data.display_name, data.email, data.mobile, password=data.password)
            ),
            sign_in_client(request),
            token=data.token,
            slug=data.workspace,
            code=data.code if not data.token else None,
        )
        return AcceptedOut(accepted.tenant_slug, accepted.link.id, accepted.membership.id)

    @post("/setup", opt=public(404, 410), status_code=HTTP_204_NO_CONTENT)
    async def set_password(self, data: JSONBody[SetupIn], db: DB, interconnect: InterconnectDep) -> None:
        """Set the first password of a login from a one-time link. Once the login has a password, every
        link for it answers 410 and changes nothing: the person accepts with `/setup/accept` instead."""
        await interconnect.access.complete_setup(db, data.token, data.password)

    @post("/setup/accept", opt=public(401, 404, 409, 410, 429), status_code=200)
    async def accept_with_login(
        self,
        data: JSONBody[SetupIn],
        db: DB,
        interconnect: InterconnectDep,
        services: ServicesDep,
        request: Request[Any, Any, Any],
    ) -> Response[TokenOut]:
        """Accept a one-time link with the password of the partner login one already has: the person
        joins this manufacturer's programme and gets tokens for it."""
        client = sign_in_client(request)
        workspace, identity_id = await interconnect.access.accept_with_login(db, data.token, data.password, client)
        opened = await interconnect.access.open_session(db, workspace.tenant_id, identity_id, "api", client)
        if opened is None:
            raise Conflict(N_("You have no access to this partner portal"), code="no_membership")
        return token_response(services, opened[1], None)


class PartnerSelfController(Controller):
    path = "/api/partner"
    tags = ["partner: self"]

    @get("/me", opt=requires("partner.profile", "read"))
    async def me(self, actor: CurrentActor) -> PartnerMeOut:
        return PartnerMeOut(
            actor.user_id,
            actor.display_name,
            actor.email,
            actor.enterprise_id,
            actor.enterprise_name,
            actor.enterprise_admin,
            actor.tenant_slug,
        )

    @get("/workspaces", opt=not_delegated(requires("partner.profile", "read")))
    async def workspaces(self, db: DB, actor: CurrentActor, interconnect: InterconnectDep) -> list[WorkspaceOut]:
        """The manufacturers this person works with; switch with /api/partner/workspaces/{slug}/token."""
        assert actor.identity_id is not None
        return [
            WorkspaceOut(w.slug, w.name, w.tenant_id == actor.tenant_id)
            for w in await interconnect.access.workspaces_of(db, actor.identity_id)
        ]

    @post("/workspaces/{workspace:str}/token", opt=not_delegated(requires("partner.profile", "read")), status_code=200)
    async def switch(
        self,
        workspace: FromPath[str],
        db: DB,
        actor: CurrentActor,
        interconnect: InterconnectDep,
        services: ServicesDep,
    ) -> TokenOut:
        """Tokens for another manufacturer this person works with, without signing in again."""
        assert actor.identity_id is not None
        target = await interconnect.access.workspace(db, workspace)
        opened = await interconnect.access.open_session(db, target.tenant_id, actor.identity_id, "api")
        if opened is None:
            raise Conflict(N_("You have no access to this partner portal"), code="no_membership")
        pair = services.sessions.token_pair(opened[1])
        return TokenOut(pair.access_token, pair.refresh_token, pair.expires_in)


def token_response(services: Services, opened: OpenedSession, device: str | None) -> Response[TokenOut]:
    pair = services.sessions.token_pair(opened)
    body = TokenOut(pair.access_token, pair.refresh_token, pair.expires_in)
    return Response(body, headers={DEVICE_HEADER: device} if device else None)


class ColleaguesController(Controller):
    """An enterprise admin manages the people of their own enterprise, and only those."""

    path = "/api/partner/colleagues"
    tags = ["partner: colleagues"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires("partner.colleagues", "read"))
    async def list_colleagues(self, people: PeopleDep, actor: CurrentActor) -> MemberPage:
        rows, total = await people.list(actor.enterprise_id, limit=200)
        return MemberPage([MemberOut.of(m, i) for m, i in rows], total)

    @post(
        "/", opt={**requires("partner.colleagues", "create"), **shown_once("setup_url")}, status_code=HTTP_201_CREATED
    )
    async def invite(
        self,
        data: JSONBody[ColleagueIn],
        db: DB,
        people: PeopleDep,
        actor: CurrentActor,
        interconnect: InterconnectDep,
    ) -> InvitedColleagueOut:
        """Add a colleague within the quota. The answer is the same whether or not the person has a
        partner login: a one-time link, to set a password or to accept by signing in."""
        membership, identity, credential = await people.add_colleague(
            actor, NewPerson(data.display_name, data.email, data.mobile, data.title), admin=data.admin
        )
        if credential is None:
            return InvitedColleagueOut(MemberOut.of(membership, identity), None)
        handover = await interconnect.hand_over(db, membership, identity, credential, by=actor)
        return InvitedColleagueOut(MemberOut.of(membership, identity), handover.url, handover.sent_to)

    @patch("/{membership_id:uuid}", opt=requires("partner.colleagues", "update"))
    async def set_status(
        self,
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[MemberStatusIn],
        people: PeopleDep,
        actor: CurrentActor,
    ) -> MemberOut:
        membership = await people.set_colleague_status(actor, membership_id, data.status)
        return MemberOut.of(membership, await people.identity_of(membership))

    @delete("/{membership_id:uuid}/sessions", opt=requires("partner.colleagues", "update"), status_code=200)
    async def end_colleague_sessions(
        self, membership_id: FromPath[uuid.UUID], db: DB, people: PeopleDep, actor: CurrentActor
    ) -> SessionsEndedOut:
        """Sign a colleague of one's own enterprise out of this workspace everywhere: every browser, app and
        WeChat sign-in of theirs here stops at once (they may sign in again). Another enterprise's or
        workspace's person is not found. Audited (`sign_out_all`)."""
        return SessionsEndedOut(await end_sessions_of(db, await people.colleague(actor, membership_id)))


PARTNER_CONTROLLERS = [PartnerAuthController, PartnerSelfController, ColleaguesController]
