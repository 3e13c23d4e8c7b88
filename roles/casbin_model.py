"""The casbin model of function permissions: RBAC with domains, one domain per tenant.

Subjects are "u:<user id>" (staff user or partner membership) and "r:<role id>"; objects and actions
are the strings routes declare; "*" in a policy matches any object or any action.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import casbin

# casbin logs its whole model at INFO each time an enforcer is built (once per policy version here).
logging.getLogger("casbin.policy").setLevel(logging.WARNING)

MODEL_TEXT = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && (p.obj == "*" || r.obj == p.obj) && (p.act == "*" || r.act == p.act)
"""

ANY = "*"
USER_PREFIX = "u:"
ROLE_PREFIX = "r:"

# ("p", subject, domain, object, action) or ("g", user or role, role, domain)
PolicyLine = tuple[str, ...]


def enforcer(lines: Iterable[PolicyLine]) -> casbin.Enforcer:
    model = casbin.model.Model()
    model.load_model_from_text(MODEL_TEXT)
    result = casbin.Enforcer(model)
    lines = list(lines)
    policies = [list(line[1:]) for line in lines if line[0] == "p"]
    groupings = [list(line[1:]) for line in lines if line[0] == "g"]
    if policies:
        result.add_policies(policies)
    if groupings:
        result.add_grouping_policies(groupings)
    return result
