"""Webhook settings, read from PORTAL_WEBHOOK_* variables (Settings.extra) when the services are built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from portal.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    # Hosts (`name` or `name:port`, as written in the endpoint's URL) exempt from the address checks and
    # allowed plain http: a receiver on the same machine in tests, an internal service on premises.
    allow_hosts: frozenset[str] = frozenset()
    # How long the secret replaced by a rotation still signs deliveries, beside the new one.
    rotation_overlap: timedelta = timedelta(hours=24)
    connect_timeout: float = 5.0
    # For the answer, and for the whole exchange (connecting, sending, reading) together.
    read_timeout: float = 10.0
    total_timeout: float = 15.0
    # The answer is read up to this size; the rest is neither read nor kept.
    max_response_bytes: int = 64 * 1024
    max_endpoints: int = 20

    @classmethod
    def from_extra(cls, extra: Mapping[str, str]) -> WebhookConfig:
        def number(name: str, default: float) -> float:
            raw = extra.get(f"WEBHOOK_{name}")
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigurationError(f"PORTAL_WEBHOOK_{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ConfigurationError(f"PORTAL_WEBHOOK_{name} must be positive")
            return value

        hosts = (h.strip().lower() for h in extra.get("WEBHOOK_ALLOW_HOSTS", "").split(","))
        return cls(
            allow_hosts=frozenset(h for h in hosts if h),
            rotation_overlap=timedelta(hours=number("ROTATION_OVERLAP_HOURS", 24)),
            connect_timeout=number("CONNECT_TIMEOUT", 5.0),
            read_timeout=number("READ_TIMEOUT", 10.0),
            total_timeout=number("TOTAL_TIMEOUT", 15.0),
            max_response_bytes=int(number("MAX_RESPONSE_BYTES", 64 * 1024)),
        )

    def allows(self, host: str, port: int) -> bool:
        host = host.lower()
        shown = f"[{host}]" if ":" in host else host
        return host in self.allow_hosts or shown in self.allow_hosts or f"{shown}:{port}" in self.allow_hosts
