"""How the platform reads a TXT record. Production asks DNS through dnspython's asynchronous resolver;
tests put a resolver of their own in its place (`Domains.resolver`)."""

from __future__ import annotations

from typing import Protocol

import dns.asyncresolver
import dns.exception
import dns.resolver

LOOKUP_SECONDS = 5.0


class LookupFailed(Exception):
    """DNS did not answer (timeout, no server): the record may well be there."""


class TxtResolver(Protocol):
    async def txt(self, name: str) -> list[str]:
        """The TXT strings published at `name` (each record's strings joined); empty when there is none."""
        ...


class DnsResolver:
    async def txt(self, name: str) -> list[str]:
        try:
            answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=LOOKUP_SECONDS)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise LookupFailed(str(error)) from error
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]  # type: ignore[attr-defined]
