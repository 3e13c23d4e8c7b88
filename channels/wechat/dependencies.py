"""The mini-program registration service of a request, named once by the API controller and the console page."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from channels.wechat.registration import MiniPrograms
from channels.wechat.service import WeChat
from portal.http.deps import DB, CurrentActor, ServicesDep


def provide_mini_programs(db: DB, actor: CurrentActor, services: ServicesDep) -> MiniPrograms:
    wechat: WeChat = services.extensions["wechat"]
    return MiniPrograms(db, actor, wechat.sealer)


DEPENDENCIES = {"mini_programs": Provide(provide_mini_programs, sync_to_thread=False)}
MiniProgramsDep = NamedDependency[MiniPrograms]
