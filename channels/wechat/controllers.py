"""The API of the WeChat mini-program: under /api/channels/wechat/mini-program a workspace's admin registers
its mini-program (app id, write-only secret); /api/wechat/<workspace>/mini/sign-in is where the mini-program
signs a partner in with a wx.login code."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from channels.wechat.dependencies import DEPENDENCIES, MiniProgramsDep
from channels.wechat.models import MiniProgram
from channels.wechat.objects import MINI_PROGRAM
from channels.wechat.registration import MiniPrograms, program_out
from channels.wechat.schemas import MiniProgramIn, MiniProgramOut, MiniSignInIn, MiniTokenOut
from channels.wechat.service import WeChat
from channels.wechat.signin import MiniSignIn, sign_in, unbind
from interconnect.services import InterconnectDep
from portal.http.context import sign_in_client
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.problems import PROBLEM_JSON, ProblemDetails
from portal.identity.schemas import sent, typed
from portal.permissions import public, requires, signed_in
from portal.services import Services

# what WeChat's own trouble becomes (channels.wechat.errors); the kernel's document knows the statuses a caller causes
WECHAT_PROBLEMS = {
    502: ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_JSON,
        description="WeChat refused the mini-program's credentials (wechat_refused)",
        generate_examples=False,
    ),
    503: ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_JSON,
        description="WeChat did not answer or stayed busy (wechat_unavailable, wechat_busy)",
        generate_examples=False,
    ),
}


async def presented(program: MiniProgram, mini_programs: MiniPrograms, services: Services) -> MiniProgramOut:
    wechat: WeChat = services.extensions["wechat"]
    shown = {
        **program_out(program),
        "sign_in_url": wechat.sign_in_url(services.settings.base_url, mini_programs.actor.tenant_slug),
        "linked_accounts": await mini_programs.linked_accounts(),
    }
    return typed(shown, MiniProgramOut)


class MiniProgramController(Controller):
    """The workspace's WeChat mini-program (see docs/channels.md)."""

    path = "/api/channels/wechat/mini-program"
    tags = ["channels"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(MINI_PROGRAM, "read", problems=(404,)))
    async def get_mini_program(self, mini_programs: MiniProgramsDep, services: ServicesDep) -> MiniProgramOut:
        return await presented(await mini_programs.get(), mini_programs, services)

    @put("/", opt=requires(MINI_PROGRAM, "update"))
    async def save_mini_program(
        self, data: JSONBody[MiniProgramIn], mini_programs: MiniProgramsDep, services: ServicesDep
    ) -> MiniProgramOut:
        """Register the mini-program or change it. The secret is sealed at rest and never shown again; leave
        it out to keep the one saved. A new app id or secret forgets the cached WeChat access token."""
        return await presented(await mini_programs.save(sent(data)), mini_programs, services)


class UnlinkedOut(msgspec.Struct):
    unlinked: int  # how many WeChat accounts were linked to the person in this workspace


class PartnerWeChatController(Controller):
    path = "/api/partner/wechat"
    tags = ["partner: access"]

    @delete("/", opt=signed_in("external"), status_code=200)
    async def unlink(self, db: DB, actor: CurrentActor) -> UnlinkedOut:
        """Unlink every WeChat account linked to your login in this workspace: the mini-program asks who you
        are again (phone number or password) the next time. Setting or resetting your password does the same."""
        assert actor.identity_id is not None
        return UnlinkedOut(await unbind(db, actor.identity_id))


class MiniSignInController(Controller):
    path = "/api/wechat"
    tags = ["partner: access"]

    @post(
        "/{workspace:str}/mini/sign-in",
        opt=public(400, 401, 403, 404, 429),
        status_code=200,
        responses=WECHAT_PROBLEMS,
    )
    async def mini_sign_in(
        self,
        workspace: FromPath[str],
        data: JSONBody[MiniSignInIn],
        db: DB,
        interconnect: InterconnectDep,
        services: ServicesDep,
        request: Request[Any, Any, Any],
    ) -> MiniTokenOut:
        """Sign a partner in from the manufacturer's WeChat mini-program with a `wx.login` code: tokens for the
        partner API (refresh them at /api/auth/refresh). The first time, the WeChat account is linked to the
        partner's login: send the phone number code of the "get phone number" button, or the partner's login
        and password, with a new wx.login code. Answers 401 `wechat_not_linked` when neither was sent, and
        403 `not_invited` when no partner of this manufacturer has the number."""
        signed = await sign_in(
            db,
            services.extensions["wechat"],
            interconnect,
            workspace,
            MiniSignIn(data.code, data.phone_code, data.login, data.password),
            sign_in_client(request),
        )
        pair = services.sessions.token_pair(signed.opened)
        return MiniTokenOut(pair.access_token, pair.refresh_token, pair.expires_in, linked_by=signed.bound_by)


CONTROLLERS = [MiniProgramController, MiniSignInController, PartnerWeChatController]
