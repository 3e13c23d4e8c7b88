"""One webhook request: checked destination, pinned address, no redirects, bounded answer, timeouts.

The URL's host is replaced by the address `addresses.resolve` checked, and the name goes in the Host
header and (https) as the TLS server name, against which the certificate is verified as usual: the
connection reaches the checked address and no other. Proxies from the environment are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync.delivery.transport import transport
from sync.webhooks.addresses import Destination, Refused, Unresolved, resolve
from sync.webhooks.config import WebhookConfig

USER_AGENT = "Portal-Webhooks/1"
EXCERPT = 2000
# 4xx answers that say "later" rather than "never".
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(slots=True)
class Result:
    outcome: str  # succeeded, failed (retry), refused (retrying cannot help)
    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    latency_ms: int | None = None
    gone: bool = False  # 410: the receiver says the endpoint no longer exists
    headers: dict[str, str] = field(default_factory=dict)


def _pinned(destination: Destination) -> tuple[str, dict[str, str], dict[str, object]]:
    default_port = 443 if destination.scheme == "https" else 80
    shown = f"[{destination.host}]" if ":" in destination.host else destination.host
    host_header = shown if destination.port == default_port else f"{shown}:{destination.port}"
    if destination.address is None:
        return f"{destination.scheme}://{host_header}{destination.path}", {}, {}
    address = f"[{destination.address}]" if ":" in destination.address else destination.address
    url = f"{destination.scheme}://{address}:{destination.port}{destination.path}"
    extensions: dict[str, object] = {}
    if destination.scheme == "https" and destination.host != destination.address:
        extensions["sni_hostname"] = destination.host
    return url, {"Host": host_header}, extensions


def _reason(error: Exception) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted: {cause.verify_message or cause}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, httpx.TimeoutException):
        return "timed out waiting for the answer"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect: {error or 'connection refused'}"
    return f"{type(error).__name__}: {error}"


_Pool = OrderedDict[tuple[Any, ...], httpx.AsyncClient]


class Clients:
    """The HTTP clients requests go out through: one per destination (scheme, host name, checked address,
    port) and event loop, each with its own pool of kept-alive connections, so an endpoint's next request
    reuses a connection instead of opening one (and, with https, shaking hands) again. A connection is
    never shared by two host names on one address: the TLS name it was verified for is part of the key.
    Clients belong to the event loop that made them (their connections are that loop's sockets); the least
    recently used are closed beyond `limit` destinations."""

    def __init__(self, limit: int = 256, connections_per_host: int = 10) -> None:
        self.limit = limit
        self.connections_per_host = connections_per_host
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()
        self._closing: set[asyncio.Task[None]] = set()

    def client_for(self, destination: Destination) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        clients = self._by_loop.setdefault(loop, OrderedDict())
        key = (destination.scheme, destination.host, destination.address, destination.port)
        client = clients.get(key)
        if client is not None:
            clients.move_to_end(key)
            return client
        per_host = self.connections_per_host
        limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host, keepalive_expiry=30)
        client = httpx.AsyncClient(follow_redirects=False, trust_env=False, transport=transport(limits))
        clients[key] = client
        while len(clients) > self.limit:
            _, oldest = clients.popitem(last=False)
            task = loop.create_task(oldest.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return client

    async def aclose(self) -> None:
        """Close the clients of the running event loop."""
        clients = self._by_loop.pop(asyncio.get_running_loop(), None) or {}
        for client in clients.values():
            await client.aclose()


async def send(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    config: WebhookConfig,
    clients: Clients | None = None,
    keep: int = EXCERPT,
) -> Result:
    """POST `body` to the destination, checking its address again first, through a kept-alive client of
    `clients` (a client of its own when None); never raises for the receiver's faults, which come back as
    a Result with a reason. The answer's first `keep` bytes are its excerpt (more than the usual excerpt
    for a caller that reads the answer, such as a paired deployment's per-event results)."""
    limit = max(config.max_response_bytes, keep)
    started = time.monotonic()
    try:
        destination = await resolve(destination, config)
    except Unresolved as unresolved:
        return Result("failed", error=str(unresolved))
    except Refused as refused:
        return Result("refused", error=str(refused))
    url, extra_headers, extensions = _pinned(destination)
    sent = {"User-Agent": USER_AGENT, "Content-Type": "application/json", "Accept-Encoding": "identity", **headers}
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    try:
        async with asyncio.timeout(config.total_timeout), contextlib.AsyncExitStack() as stack:
            if clients is None:
                client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False, trust_env=False))
            else:
                client = clients.client_for(destination)
            request = client.build_request(
                "POST", url, content=body, headers={**sent, **extra_headers}, extensions=extensions, timeout=timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                kept = bytearray()
                async for chunk in response.aiter_raw():
                    kept += chunk[: limit - len(kept)]
                    if len(kept) >= limit:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return Result("failed", error=f"no answer within {config.total_timeout:g} s", latency_ms=_since(started))
    except httpx.HTTPError as error:
        return Result("failed", error=_reason(error), latency_ms=_since(started))
    latency = _since(started)
    status = response.status_code
    excerpt = bytes(kept[:keep]).decode("utf-8", "replace")
    if 200 <= status < 300:
        return Result("succeeded", status, excerpt, latency_ms=latency)
    if 300 <= status < 400:
        where = response.headers.get("location", "")[:300]
        error = f"answered {status} (a redirect to {where or 'nowhere'}); webhooks do not follow redirects"
        return Result("refused", status, excerpt, error, latency)
    if status == 410:
        return Result("refused", status, excerpt, "answered 410 Gone: the endpoint was disabled", latency, gone=True)
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Result("refused", status, excerpt, f"answered {status}: the receiver refused the request", latency)
    return Result("failed", status, excerpt, f"answered {status}", latency)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
