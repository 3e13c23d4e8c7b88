"""The compiled index answers exactly what casbin's enforce() answers, on random policies and role graphs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roles.casbin_model import enforcer
from roles.index import PermissionIndex

OBJECTS = ["order", "ticket", "product", "lead", "*"]
ACTIONS = ["read", "create", "approve", "*"]
DOMAINS = ["t1", "t2"]
CHECKED: list[int] = []


@st.composite
def policy_worlds(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], list[str]]:
    roles = [f"r:{i}" for i in range(draw(st.integers(1, 8)))]
    users = [f"u:{i}" for i in range(draw(st.integers(1, 12)))]
    lines: list[tuple[str, ...]] = []
    for _ in range(draw(st.integers(0, 30))):
        subject = draw(st.sampled_from(roles + users))
        lines.append(
            (
                "p",
                subject,
                draw(st.sampled_from(DOMAINS)),
                draw(st.sampled_from(OBJECTS)),
                draw(st.sampled_from(ACTIONS)),
            )
        )
    # role inheritance: a role may include any role after it (a DAG, as an admin screen would allow)
    for i, role in enumerate(roles):
        for other in roles[i + 1 :]:
            if draw(st.booleans()) and draw(st.booleans()):
                lines.append(("g", role, other, draw(st.sampled_from(DOMAINS))))
    for user in users:
        for role in draw(st.lists(st.sampled_from(roles), max_size=3, unique=True)):
            lines.append(("g", user, role, draw(st.sampled_from(DOMAINS))))
    return lines, users + roles + ["u:unknown"]


# Sixty random policies make about 18,000 comparisons with casbin (each enforce() call costs about a
# millisecond, so the oracle is what this test spends its time on); the test still asks for 10,000.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_worlds())
def check_index_matches_enforce(world: tuple[list[tuple[str, ...]], list[str]]) -> None:
    lines, subjects = world
    reference = enforcer(lines)
    for domain in DOMAINS:
        index = PermissionIndex.build(domain, lines)
        for subject in subjects:
            for obj in OBJECTS[:-1]:
                for act in ACTIONS[:-1]:
                    expected = reference.enforce(subject, domain, obj, act)
                    assert index.allows(subject, obj, act) == expected, (subject, domain, obj, act, lines)
                    CHECKED.append(1)


def test_compiled_index_matches_casbin_enforce_on_random_policies() -> None:
    CHECKED.clear()
    check_index_matches_enforce()
    assert len(CHECKED) >= 10_000, len(CHECKED)


def test_policies_of_another_domain_grant_nothing() -> None:
    lines = [("p", "r:1", "t2", "order", "read"), ("g", "u:1", "r:1", "t2"), ("g", "u:1", "r:2", "t1")]
    assert not PermissionIndex.build("t1", lines).allows("u:1", "order", "read")
    assert PermissionIndex.build("t2", lines).allows("u:1", "order", "read")
