"""Partner domains: a tenant's own host (e.g. portal.acme.example) serving its partner portal without
/p/<slug>. Which host belongs to which tenant is proved and kept by channels.domains; the kernel only reads
the verified host off the tenant registry (`tenants.partner_domain`) and, for a request to it:

- maps its path into the portal before routing (`/orders` is served as `/p/<slug>/orders`), except the
  addresses that are the same on every host (the API, static files, invitation and setup links …) and the
  portal's own prefixed paths (old links keep working);
- maps the portal's addresses back in what it answers: the `Location` of a redirect and the `href`,
  `action` and `src` of an HTML page lose the prefix, so the visitor stays on the domain. Another
  workspace's addresses are sent to the platform's own base URL: a partner domain shows one tenant only.

The host is the request's `Host`; `X-Forwarded-Host` only when the deployment says its proxy sets it
(PORTAL_TRUST_FORWARDED_HOST), since anyone may send that header. Cookies are never given a Domain
attribute, so the session and CSRF cookies set on a partner domain are that host's alone.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import PUBLIC
from portal.db.engine import Database
from portal.identity.models import Tenant

# The same on every host: the API (bearer tokens name their tenant), files, health, links mailed from the
# platform, the language switch and the OAuth metadata.
SHARED_PREFIXES = ("/api/", "/static/", "/.well-known/", "/join/", "/setup/")
SHARED_PATHS = frozenset({"/health", "/lang"})
HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 1024  # hosts remembered at once: any Host header may be sent, the memory stays bounded


def host_name(value: str) -> str | None:
    """A Host header's name, lowercased and without port or final dot; None for what no domain looks like."""
    name = value.strip().lower()
    if name.startswith("["):
        return None  # an IPv6 literal is never a partner domain
    name = name.rsplit(":", 1)[0].rstrip(".")
    return name if HOST.match(name) else None


class PartnerHosts:
    """The partner domains of the active tenants, looked up by host and remembered for a few seconds per
    process (a domain verified or given up is served or dropped by every process within CACHE_SECONDS)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.own_host = (urlsplit(settings.base_url).hostname or "").lower()
        self.base_url = settings.base_url
        self.trust_forwarded_host = settings.trust_forwarded_host
        self._known: OrderedDict[str, tuple[str | None, float]] = OrderedDict()

    def requested_host(self, headers: Headers) -> str | None:
        value = headers.get("host", "")
        if self.trust_forwarded_host and headers.get("x-forwarded-host"):
            # the value our proxy appended is the last one; those before it came from the client
            value = headers.get("x-forwarded-host", "").split(",")[-1]
        return host_name(value)

    async def slug_of(self, host: str) -> str | None:
        if host == self.own_host:
            return None
        now = time.monotonic()
        known = self._known.get(host)
        if known is not None and known[1] > now:
            return known[0]
        async with self.db.session(PUBLIC, write=False) as session:
            slug = await session.scalar(
                select(Tenant.slug).where(Tenant.partner_domain == host, Tenant.status == "active")
            )
        self._known[host] = (slug, now + CACHE_SECONDS)
        self._known.move_to_end(host)
        while len(self._known) > CACHE_ENTRIES:
            self._known.popitem(last=False)
        return slug

    def forget(self, hosts: Iterable[str] = ()) -> None:
        """Forget the hosts given (all when none): their tenant changed them in this process."""
        names = list(hosts)
        if not names:
            self._known.clear()
        for name in names:
            self._known.pop(name, None)


# The scope key naming the workspace whose partner domain serves this request (absent on the platform's host).
SERVED_ON = "portal.partner_domain"


def partner_domain_of(scope: Any) -> str | None:
    """The slug of the workspace whose partner domain this request came to, None on the platform's own host."""
    return scope.get(SERVED_ON) if scope is not None else None


def inward_next(target: str, slug: str) -> str | None:
    """A `next` as given on the partner domain of `slug` (the domain's own path, "/orders") as the portal serves it
    ("/p/<slug>/orders"); the portal's own prefixed paths are kept (older links). None for what is not a page of
    this portal on this domain: another workspace's /p/ path, or an address every host shares (the API, ...)."""
    prefix = f"/p/{slug}"
    if target == prefix or target.startswith((prefix + "/", prefix + "?")):
        return target
    if target.startswith("/p/") or target == "/p":
        return None
    inward = portal_path(target, slug)
    return inward if inward != target else None


def page_address(request: Any) -> str:
    """The page's own address (path and query) as the visitor's browser knows it, for a form's `next`: on a
    partner domain without /p/<slug>."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    slug = partner_domain_of(request.scope)
    return outward_location(path, slug, "") if slug else path


def portal_path(path: str, slug: str) -> str:
    """Where a path asked for on the partner domain of `slug` is served."""
    prefix = f"/p/{slug}"
    if path in SHARED_PATHS or path.startswith(SHARED_PREFIXES) or path == prefix or path.startswith(prefix + "/"):
        return path
    return prefix + path


def partner_url(base_url: str, slug: str, partner_domain: str | None, path: str = "/") -> str:
    """The one way a notice (an email, an SMS, a WeChat message) links to a partner portal: `path` as the portal
    names its pages ("/orders", "/reset/…") or an address shared by every host ("/setup/…", "/join/…"). On the
    tenant's verified partner domain when it has one (`tenants.partner_domain`, set only once verified), without
    /p/<slug>, in the scheme of the platform's base URL; otherwise on the platform's base URL, under /p/<slug>."""
    if not path.startswith("/"):
        path = "/" + path
    if partner_domain:
        scheme = urlsplit(base_url).scheme or "https"
        return f"{scheme}://{partner_domain}{path}"
    return base_url.rstrip("/") + portal_path(path, slug)


def outward_location(location: str, slug: str, base_url: str) -> str:
    """A redirect's target as the visitor on the partner domain follows it."""
    prefix = f"/p/{slug}"
    if location == prefix or location.startswith((prefix + "/", prefix + "?", prefix + "#")):
        rest = location[len(prefix) :]
        return rest if rest.startswith("/") else "/" + rest
    if location.startswith("/p/"):
        return base_url + location  # another workspace: on the platform's address, not this tenant's host
    return location


@lru_cache(maxsize=256)
def prefixed_links(slug: str) -> re.Pattern[bytes]:
    """The page's own links into the portal: `href`, `action`, `src` starting with /p/<slug>."""
    return re.compile(rb'((?:href|action|src|formaction)=")/p/' + re.escape(slug.encode()) + rb'(?:/|(?=["?#]))')


class PartnerDomainMiddleware:
    """Wraps the application's router (portal.http.app): a path must be mapped before routing."""

    def __init__(self, app: ASGIApp, hosts: PartnerHosts) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = self.hosts.requested_host(Headers.from_scope(scope))
        slug = await self.hosts.slug_of(host) if host else None
        if slug is None:
            await self.app(scope, receive, send)
            return
        scope[SERVED_ON] = slug  # type: ignore[literal-required]
        original = scope["path"]
        path = portal_path(original, slug)
        if path != original:
            prefix = path[: len(path) - len(original)]  # the raw path after it keeps its own escapes
            scope["raw_path"] = prefix.encode() + (scope.get("raw_path") or original.encode())
            scope["path"] = path
        # a HEAD answer has no body to rewrite, and its length is the GET's
        await self.app(scope, receive, _Outward(send, slug, self.hosts.base_url, scope.get("method") != "HEAD"))


class _Outward:
    """The answer as the partner domain's visitor needs it: redirects and an HTML page's own links
    without the portal's prefix. An HTML body is held until it is whole (pages are small) to be rewritten."""

    def __init__(self, send: Send, slug: str, base_url: str, rewrites_body: bool) -> None:
        self.send, self.slug, self.base_url, self.rewrites_body = send, slug, base_url, rewrites_body
        self.start: Message | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, outward_location(value.decode("latin-1"), self.slug, self.base_url).encode("latin-1"))
                if name.lower() == b"location"
                else (name, value)
                for name, value in message.get("headers", [])
            ]
            message = {**message, "headers": headers}
            if self.rewrites_body and any(
                n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers
            ):
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = prefixed_links(self.slug).sub(rb"\1/", b"".join(self.body))
            headers = [
                (n, str(len(body)).encode()) if n.lower() == b"content-length" else (n, v)
                for n, v in self.start["headers"]
            ]
            start, self.start = {**self.start, "headers": headers}, None
            await self.send(start)  # type: ignore[arg-type]
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.send(message)
