"""The tenant's service levels through the API: read by whoever reads tickets, changed with the same
permission as the business calendar they are counted on (`workspace` update)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from apps.service.objects import TICKET
from apps.service.sla import policy
from portal.http.deps import DB
from portal.http.inputs import Int32
from portal.identity.schemas import Out, Strict
from portal.permissions import requires


class TargetIn(Strict):
    priority: str  # low | normal | high | urgent
    type: str  # installation | repair | maintenance | inspection
    response_minutes: Int32  # business minutes from dispatch to acceptance
    resolution_minutes: Int32  # business minutes from opening to resolution, time on hold left out


class LevelsIn(Strict):
    warning_percent: Int32  # the share of a target after which the partner is warned
    targets: list[TargetIn] = msgspec.field(default_factory=list)


class TargetOut(Out, kw_only=True):
    priority: str
    type: str
    response_minutes: int
    resolution_minutes: int


class LevelsOut(Out, kw_only=True):
    warning_percent: int
    targets: list[TargetOut]

    @classmethod
    def of(cls, levels: policy.Levels) -> LevelsOut:
        return cls(
            warning_percent=levels.warning_percent,
            targets=[
                TargetOut(
                    priority=t.priority,
                    type=t.type,
                    response_minutes=t.response_minutes,
                    resolution_minutes=t.resolution_minutes,
                )
                for t in levels.targets
            ],
        )


class ServiceLevelsController(Controller):
    path = "/api/service/sla"
    tags = ["service"]

    @get("/", opt=requires(TICKET, "read"))
    async def get_levels(self, db: DB) -> LevelsOut:
        """The warning share and each priority and type's targets, in business minutes on the workspace's
        calendar."""
        return LevelsOut.of(await policy.levels(db))

    @put("/", opt=requires("workspace", "update"))
    async def put_levels(self, data: JSONBody[LevelsIn], db: DB) -> LevelsOut:
        """Set the warning share (1 to 99) and the targets given (those left out stay). Refused whole, each
        mistake under its field (`targets[2].response_minutes`): an unknown priority or type, one listed
        twice, minutes outside 1 to a year. Tickets already open keep the targets they were opened with."""
        wanted = policy.Levels(
            data.warning_percent,
            [policy.TargetEntry(t.priority, t.type, t.response_minutes, t.resolution_minutes) for t in data.targets],
        )
        return LevelsOut.of(await policy.replace(db, wanted))
