"""Request and response bodies of the partner domain's API."""

from __future__ import annotations

from datetime import datetime

import msgspec

from portal.identity.schemas import Strict


class PartnerDomainIn(Strict):
    # the host partners will use, e.g. portal.acme.example (no scheme, no path)
    domain: str


class PartnerDomainOut(msgspec.Struct):
    domain: str
    # "pending" (publish the record, then verify), "verified" (serving the partner portal) or "expired"
    status: str
    # the TXT record that proves the domain is the tenant's: publish record_value at record_name
    record_name: str
    record_type: str
    record_value: str
    # until when a pending claim may be verified (null once verified)
    expires_at: datetime | None
    verified_at: datetime | None
    # the last check and what it found wrong: record_not_found, record_mismatch, dns_unavailable
    checked_at: datetime | None
    problem: str | None
    created_at: datetime
    updated_at: datetime
