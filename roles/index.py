"""The compiled permission index: what casbin would answer, as a dictionary lookup.

enforce() walks every policy of the domain on every call (milliseconds at a few thousand policies), so
the request path never calls it. Instead, each tenant's policy is compiled once per policy version: every
subject's permissions are the union of its own policies and those of all roles it holds, directly or
through other roles, as casbin's own role manager resolves them. Subjects holding the same roles share
one frozenset, so 20,000 users cost little more than their dictionary entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from roles.casbin_model import ANY, USER_PREFIX, PolicyLine, enforcer

Grant = tuple[str, str]  # (object, action); either may be "*"


class PermissionIndex:
    __slots__ = ("_by_subject", "domain", "version")

    def __init__(self, domain: str, version: int, by_subject: dict[str, frozenset[Grant]]) -> None:
        self.domain = domain
        self.version = version
        self._by_subject = by_subject

    @classmethod
    def build(cls, domain: str, lines: Iterable[PolicyLine], version: int = 0) -> PermissionIndex:
        """Users ("u:…") are leaves: they hold roles, and only roles include roles. The role hierarchy,
        small whatever the number of users, is resolved by casbin's role manager (whose lookups grow
        with every subject in the domain, so users are kept out of it); a user's own grouping rules
        then name the roles it holds directly."""
        lines = list(lines)
        role_lines = [line for line in lines if not (line[0] == "g" and line[1].startswith(USER_PREFIX))]
        roles_enforcer = enforcer(role_lines)
        direct: dict[str, set[Grant]] = defaultdict(set)
        for sub, dom, obj, act in roles_enforcer.get_policy():
            if dom == domain:
                direct[sub].add((obj, act))
        held: dict[str, set[str]] = defaultdict(set)
        for line in lines:
            if line[0] == "g" and line[1].startswith(USER_PREFIX) and line[3] == domain:
                held[line[1]].add(line[2])
        role_names = {s for s in direct if not s.startswith(USER_PREFIX)}
        role_names |= {rule[0] for rule in roles_enforcer.get_grouping_policy() if rule[2] == domain}
        role_names |= {role for roles in held.values() for role in roles}
        role_grants: dict[str, set[Grant]] = {}
        for role in role_names:
            granted = set(direct.get(role, ()))
            for inherited in roles_enforcer.get_implicit_roles_for_user(role, domain):
                granted |= direct.get(inherited, set())
            role_grants[role] = granted

        shared: dict[frozenset[Grant], frozenset[Grant]] = {}
        by_subject: dict[str, frozenset[Grant]] = {}

        def intern(granted: set[Grant]) -> frozenset[Grant]:
            key = frozenset(granted)
            return shared.setdefault(key, key)

        for role, granted in role_grants.items():
            if granted:
                by_subject[role] = intern(granted)
        by_roles: dict[frozenset[str], set[Grant]] = {}
        for user in set(held) | {s for s in direct if s.startswith(USER_PREFIX)}:
            roles = frozenset(held.get(user, ()))
            if roles not in by_roles:
                by_roles[roles] = set().union(*(role_grants.get(r, set()) for r in roles)) if roles else set()
            granted = by_roles[roles] | direct.get(user, set())
            if granted:
                by_subject[user] = intern(granted)
        return cls(domain, version, by_subject)

    def allows(self, subject: str, obj: str, action: str) -> bool:
        granted = self._by_subject.get(subject)
        if not granted:
            return False
        return (obj, action) in granted or (obj, ANY) in granted or (ANY, action) in granted or (ANY, ANY) in granted

    def grants(self, subject: str) -> frozenset[Grant]:
        return self._by_subject.get(subject, frozenset())

    @property
    def subjects(self) -> int:
        return len(self._by_subject)
