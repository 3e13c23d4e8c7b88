"""JSON API for tenant sign-up, tokens and staff accounts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select

from portal.brand import set_brand
from portal.http.context import DEVICE_HEADER, sign_in_client
from portal.http.deps import DB, STAFF_DEPENDENCIES, CurrentActor, ServicesDep, StaffDep
from portal.http.inputs import Limit, Offset
from portal.identity.accounts import Accounts, NewStaff, SignUp
from portal.identity.models import InternalUser, Tenant
from portal.identity.schemas import (
    MeOut,
    NewUserIn,
    RefreshIn,
    SignUpIn,
    SignUpOut,
    TenantOut,
    TokenIn,
    TokenOut,
    UserOut,
    UserPage,
    UserPatchIn,
    WorkspacePatchIn,
)
from portal.identity.session_controllers import SessionsEndedOut
from portal.identity.sessions import revoke_session
from portal.identity.signed_in import end_sessions_of
from portal.permissions import ADMIN_ROLE, SIGNED_IN, public, requires, signed_in


class AuthController(Controller):
    path = "/api"
    tags = ["identity"]
    dependencies = STAFF_DEPENDENCIES

    @post("/signup", opt=public(), status_code=HTTP_201_CREATED)
    async def sign_up(self, data: JSONBody[SignUpIn], db: DB, services: ServicesDep) -> SignUpOut:
        """Create a tenant (an upstream manufacturer) and its first admin."""
        tenant, admin = await services.accounts.sign_up(
            db,
            SignUp(
                data.company_name, data.slug, data.admin_name, data.email, data.password, data.locale, data.time_zone
            ),
            "api",
        )
        return SignUpOut(TenantOut.of(tenant), UserOut.of(admin, frozenset({ADMIN_ROLE})))

    @post("/auth/token", opt=public(401, 429), status_code=200)
    async def token(
        self, data: JSONBody[TokenIn], db: DB, services: ServicesDep, request: Request[Any, Any, Any]
    ) -> Response[TokenOut]:
        """Exchange workspace, email and password for a short-lived access token and a refresh token.
        The `X-Portal-Device` response header is a device credential: sent back on later sign-ins, it
        keeps this client signing in while someone else's wrong guesses hold back other clients."""
        logged_in = await services.accounts.log_in(
            db, data.workspace, data.email, data.password, "api", sign_in_client(request)
        )
        pair = services.sessions.token_pair(logged_in.opened)
        return Response(
            TokenOut(pair.access_token, pair.refresh_token, pair.expires_in), headers={DEVICE_HEADER: logged_in.device}
        )

    @post("/auth/refresh", opt=public(401), status_code=200)
    async def refresh(self, data: JSONBody[RefreshIn], services: ServicesDep) -> TokenOut:
        """Rotate a refresh token. A refresh token used twice ends its session."""
        pair = await services.sessions.refresh(data.refresh_token)
        return TokenOut(pair.access_token, pair.refresh_token, pair.expires_in)

    @post("/auth/logout", opt={"permission": SIGNED_IN}, status_code=HTTP_204_NO_CONTENT)
    async def logout(self, db: DB, actor: CurrentActor) -> None:
        """End this session: its access and refresh tokens stop working at once."""
        assert actor.session_id is not None
        await revoke_session(db, actor.session_id, "logout")

    @get("/me", opt=signed_in("internal"))
    async def me(self, db: DB, actor: CurrentActor, staff: StaffDep) -> MeOut:
        user = await staff.get(actor.user_id)
        tenant = (await db.scalars(select(Tenant).where(Tenant.id == actor.tenant_id))).one()
        return MeOut(UserOut.of(user, actor.roles), TenantOut.of(tenant))

    @patch("/workspace", opt=requires("workspace", "update"))
    async def update_workspace(self, data: JSONBody[WorkspacePatchIn], db: DB, actor: CurrentActor) -> TenantOut:
        """Change the workspace's settings: the time zone its pages show times in, and its brand (colour,
        partner sign-in text, email header; the logo is `PUT /api/workspace/logo`). Each is checked before
        any is kept."""
        async with db.begin_nested():
            brand = {
                name: value
                for name, value in (
                    ("colour", data.brand_colour),
                    ("sign_in_text", data.sign_in_text),
                    ("email_header", data.email_header),
                )
                if value is not None
            }
            tenant = await set_brand(db, actor.tenant_id, **brand)
            if data.time_zone is not None:
                tenant = await Accounts.set_time_zone(db, actor.tenant_id, data.time_zone)
        return TenantOut.of(tenant)


class UsersController(Controller):
    path = "/api/users"
    tags = ["staff"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires("staff.users", "read"))
    async def list_users(
        self,
        staff: StaffDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UserPage:
        users, total = await staff.list(limit=limit, offset=offset)
        roles = await staff.roles_of(users)
        return UserPage([UserOut.of(u, roles.get(u.id, frozenset())) for u in users], total, limit, offset)

    @post("/", opt=requires("staff.users", "create"))
    async def create_user(self, data: JSONBody[NewUserIn], db: DB, staff: StaffDep) -> UserOut:
        """Add a staff member. Send an Idempotency-Key header to make retries safe (the key is claimed
        in the unit of work, `db`, which is why this handler names it)."""
        user = await staff.create(
            NewStaff(data.email, data.display_name, data.password, tuple(data.roles), data.locale)
        )
        return UserOut.of(user, (await staff.roles_of([user]))[user.id])

    @get("/{user_id:uuid}", opt=requires("staff.users", "read"))
    async def get_user(self, user_id: FromPath[uuid.UUID], staff: StaffDep) -> UserOut:
        user = await staff.get(user_id)
        return UserOut.of(user, (await staff.roles_of([user])).get(user.id, frozenset()))

    @patch("/{user_id:uuid}", opt=requires("staff.users", "update"))
    async def update_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatchIn],
        actor: CurrentActor,
        staff: StaffDep,
    ) -> UserOut:
        """Change a staff member. Disabling ends all of their sessions and tokens at once."""
        user: InternalUser = await staff.update(
            actor, user_id, display_name=data.display_name, roles=data.roles, status=data.status, locale=data.locale
        )
        return UserOut.of(user, (await staff.roles_of([user])).get(user.id, frozenset()))

    @delete("/{user_id:uuid}/sessions", opt=requires("staff.users", "update"), status_code=200)
    async def end_user_sessions(self, user_id: FromPath[uuid.UUID], db: DB, staff: StaffDep) -> SessionsEndedOut:
        """Sign a staff member out everywhere: every browser and token of theirs stops working at once (they may
        sign in again)."""
        return SessionsEndedOut(await end_sessions_of(db, await staff.get(user_id)))
