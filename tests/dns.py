"""A fake of DNS for the TXT records that prove partner domains (channels.domains.resolver): a test publishes
what the manufacturer would publish at its DNS provider, or makes the next lookups fail as a resolver that
gets no answer does. It takes the place of the app's resolver (`install`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from litestar import Litestar

from channels.domains.dependencies import EXTENSION, DomainChecks
from channels.domains.resolver import LookupFailed


@dataclass
class FakeDns:
    records: dict[str, list[str]] = field(default_factory=dict)
    failing: int = 0  # the next lookups that get no answer
    lookups: Counter[str] = field(default_factory=Counter)

    def publish(self, name: str, *values: str) -> None:
        self.records[name.lower()] = list(values)

    def fail(self, times: int = 1) -> None:
        self.failing = times

    async def txt(self, name: str) -> list[str]:
        self.lookups[name] += 1
        if self.failing:
            self.failing -= 1
            raise LookupFailed("timed out")
        return list(self.records.get(name.lower(), []))


def install(app: Litestar) -> FakeDns:
    """The app's resolver replaced by a new, empty fake."""
    fake = FakeDns()
    checks: DomainChecks = app.state.services.extensions[EXTENSION]
    checks.resolver = fake
    return fake
