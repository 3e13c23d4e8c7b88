"""Where a webhook may be sent: an https URL whose host resolves to public addresses only.

The check runs when an endpoint is saved and again before every delivery (DNS answers change). At send
time the connection goes to the very address that was checked (sender.py puts it in the URL and sends
the name as Host and TLS server name), so a name that answers a public address to the check and a
private one to the connection (DNS rebinding) gains nothing: there is no second lookup.

An address is refused unless it is globally routable: loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), link-local (169.254/16 with the cloud metadata services, fe80::/10), shared (100.64/10),
multicast, reserved, unspecified, documentation ranges, and IPv6 forms that embed such an IPv4 address
(::ffff:127.0.0.1, 64:ff9b::a00:1, 2002:7f00:1::). Numeric tricks in the URL (http://2130706433/,
0x7f.1, 127.1) are resolved by the system's resolver to the address they mean, and that is checked.
A host in the configured allowlist skips the check and may use plain http.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.i18n import N_, Msgid
from sync.webhooks.config import WebhookConfig

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Named beside the ranges above for the reader: every one is already refused as non-global.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A lookup runs while an endpoint is being saved (inside its unit of work): never for long.
RESOLVE_SECONDS = 5.0


class Refused(Exception):
    """The destination is not one a webhook may reach: `message` (a message id) and `params` say why."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


class Unresolved(Refused):
    """The host's name could not be looked up: refused when saving, worth retrying when sending (DNS
    outages pass)."""


@dataclass(frozen=True, slots=True)
class Destination:
    url: str
    scheme: str
    host: str  # as written in the URL, lower case, without brackets
    port: int
    path: str  # path and query
    address: str | None  # the checked address to connect to; None for an allowlisted host


def parse(url: str, config: WebhookConfig) -> Destination:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(N_("not a valid URL")) from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise Refused(N_("the URL must start with https:// and name a host"))
    if parts.username is not None or parts.password is not None:
        raise Refused(N_("the URL must not carry a user name or password"))
    if parts.fragment:
        raise Refused(N_("the URL must not have a fragment (#...)"))
    port = port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "http" and not config.allows(host, port):
        raise Refused(N_("the URL must use https"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(url.strip(), parts.scheme, host, port, path, None)


def embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> tuple[IPAddress, str] | None:
    """Why a webhook may not go to this address (the address and what kind it is), or None."""
    inner = embedded_v4(address)
    if inner is not None:
        return refusal(inner)
    if address in METADATA_ADDRESSES:
        return address, N_("a cloud metadata address")
    for test, words in (
        (address.is_loopback, N_("a loopback address")),
        (address.is_private and not address.is_global, N_("a private address")),
        (address.is_link_local, N_("a link-local address")),
        (address.is_multicast, N_("a multicast address")),
        (address.is_unspecified, N_("the unspecified address")),
        (address.is_reserved, N_("a reserved address")),
    ):
        if test:
            return address, words
    if not address.is_global:
        return address, N_("not a public address")
    return None


async def resolve(destination: Destination, config: WebhookConfig) -> Destination:
    """The destination with the address to connect to, after checking every address its host has."""
    if config.allows(destination.host, destination.port):
        return destination
    try:
        literal: IPAddress | None = ipaddress.ip_address(destination.host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            async with asyncio.timeout(RESOLVE_SECONDS):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    destination.host, destination.port, type=socket.SOCK_STREAM
                )
        except (OSError, UnicodeError, TimeoutError):
            raise Unresolved(N_("the host %(host)s could not be resolved"), host=destination.host) from None
        found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found:
        raise Unresolved(N_("the host %(host)s has no address"), host=destination.host)
    for address in found:
        refused = refusal(address)
        if refused:
            raise Refused(
                N_("%(host)s resolves to %(address)s, %(kind)s; webhooks only go to public addresses"),
                host=destination.host,
                address=str(refused[0]),
                kind=Msgid(refused[1]),
            )
    return Destination(
        destination.url, destination.scheme, destination.host, destination.port, destination.path, str(found[0])
    )


async def check(url: str, config: WebhookConfig) -> Destination:
    return await resolve(parse(url, config), config)
