"""Permission checks: the compiled index against casbin's enforce(), side by side in one run.

    .venv/bin/python -m benchmarks.permissions [--users 20000] [--enforce-checks 400] [--index-checks 200000]

Builds one tenant with 50 roles, 60 objects and 4 actions (2,400 role policies, each role granted a
random half of the object/action pairs), a role hierarchy, and users holding 1-3 roles each; then prints
median and p99 microseconds per check for both, their ratio, the index build time and its memory.
Goal: index median <= 5 us.

casbin builds its role links lazily on the first enforce(), in time that grows faster than the number of
users (3.7 s at 2,000 users; not finished after 10 minutes at 20,000 on a 2-core machine), so enforce()
is timed on the same role policies with the first --enforce-users users loaded: its per-check cost
depends on the policies it walks, and this is its most favourable setting.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc

from roles.casbin_model import enforcer
from roles.index import PermissionIndex

DOMAIN = "tenant-1"


def policy(users: int, seed: int = 7) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    objects = [f"object{i}" for i in range(60)]
    actions = ["read", "create", "update", "approve"]
    pairs = [(o, a) for o in objects for a in actions]
    lines: list[tuple[str, ...]] = []
    for r in range(50):
        for obj, act in rng.sample(pairs, 48):
            lines.append(("p", f"r:{r}", DOMAIN, obj, act))
    for r in range(0, 50, 5):  # every fifth role includes the next two
        lines.extend(("g", f"r:{r}", f"r:{r + k}", DOMAIN) for k in (1, 2))
    for u in range(users):
        for r in rng.sample(range(50), rng.randint(1, 3)):
            lines.append(("g", f"u:{u}", f"r:{r}", DOMAIN))
    return lines


def time_checks(check, requests: list[tuple[str, str, str]]) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    clock = time.perf_counter_ns
    for sub, obj, act in requests:
        start = clock()
        check(sub, obj, act)
        samples.append((clock() - start) / 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--enforce-checks", type=int, default=400)
    parser.add_argument("--enforce-users", type=int, default=2_000)
    parser.add_argument("--index-checks", type=int, default=200_000)
    args = parser.parse_args()

    lines = policy(args.users)
    role_policies = sum(1 for line in lines if line[0] == "p")
    rng = random.Random(11)
    objects = [f"object{i}" for i in range(60)]
    actions = ["read", "create", "update", "approve"]

    def requests(n: int) -> list[tuple[str, str, str]]:
        return [(f"u:{rng.randrange(args.users)}", rng.choice(objects), rng.choice(actions)) for _ in range(n)]

    tracemalloc.start()
    start = time.perf_counter()
    index = PermissionIndex.build(DOMAIN, lines)
    build_seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    loaded = {f"u:{u}" for u in range(min(args.enforce_users, args.users))}
    reference = enforcer(line for line in lines if line[0] == "p" or not line[1].startswith("u:") or line[1] in loaded)
    start = time.perf_counter()
    reference.enforce("u:0", DOMAIN, "object0", "read")  # casbin's one-time role-link build
    warm_up = time.perf_counter() - start
    sample = [
        (f"u:{rng.randrange(len(loaded))}", rng.choice(objects), rng.choice(actions))
        for _ in range(args.enforce_checks)
    ]
    mismatches = sum(index.allows(s, o, a) != reference.enforce(s, DOMAIN, o, a) for s, o, a in sample)

    enforce_us = time_checks(lambda s, o, a: reference.enforce(s, DOMAIN, o, a), sample)
    index_us = time_checks(index.allows, requests(args.index_checks))

    print(
        f"tenant: 50 roles, 60 objects, 4 actions, {role_policies} role policies, {args.users} users "
        f"({index.subjects} subjects indexed)"
    )
    print(
        f"enforce():   median {statistics.median(enforce_us):10.1f} us   p99 {p99(enforce_us):10.1f} us   "
        f"({len(enforce_us)} checks; {len(loaded)} users loaded, first call {warm_up:.1f} s)"
    )

    print(
        f"index:       median {statistics.median(index_us):10.2f} us   p99 {p99(index_us):10.2f} us   "
        f"({len(index_us)} checks)"
    )
    print(f"ratio (enforce / index, medians): {statistics.median(enforce_us) / statistics.median(index_us):,.0f}x")
    print(f"index build: {build_seconds:.2f} s, peak memory during build {peak / 2**20:.1f} MiB")
    print(f"mismatches against enforce() on the {len(sample)} timed requests: {mismatches}")
    print("goal: index median <= 5 us:", "met" if statistics.median(index_us) <= 5 else "NOT met")


if __name__ == "__main__":
    main()
