"""Interconnect's services for a request, by dependency injection: a controller (or page) names them
once, in `dependencies=`, and its handlers take what they use by name. (The process-wide
`interconnect` dependency is in interconnect.services.)"""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from interconnect.invitations import Invitations
from interconnect.links import Links
from interconnect.people import People
from interconnect.programme import Programme
from portal.http.deps import DB, CurrentActor, ServicesDep


def provide_programme(db: DB) -> Programme:
    return Programme(db)


def provide_links(db: DB, actor: CurrentActor) -> Links:
    """The enterprises, with the actor recorded on the status changes they make."""
    return Links(db, actor)


def provide_people(db: DB, services: ServicesDep) -> People:
    return People(db, services.passwords)


def provide_invitations(db: DB, actor: CurrentActor) -> Invitations:
    """The invitations, with the actor recorded as the creator of new ones."""
    return Invitations(db, actor)


DEPENDENCIES = {
    "programme": Provide(provide_programme, sync_to_thread=False),
    "links": Provide(provide_links, sync_to_thread=False),
    "people": Provide(provide_people, sync_to_thread=False),
    "invitations": Provide(provide_invitations, sync_to_thread=False),
}

ProgrammeDep = NamedDependency[Programme]
LinksDep = NamedDependency[Links]
PeopleDep = NamedDependency[People]
InvitationsDep = NamedDependency[Invitations]
