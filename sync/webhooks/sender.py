"""One webhook request: checked destination, pinned address, no redirects, bounded answer, timeouts.

The URL's host is replaced by the address `addresses.resolve` checked, and the name goes in the Host
header and (https) as the TLS server name, against which the certificate is verified as usual: the
connection reaches the checked address and no other. Proxies from the environment are ignored.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

import httpx

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


async def send(destination: Destination, body: bytes, headers: dict[str, str], config: WebhookConfig) -> Result:
    """POST `body` to the destination, checking its address again first; never raises for the
    receiver's faults, which come back as a Result with a reason."""
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
        async with asyncio.timeout(config.total_timeout):
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
                request = client.build_request(
                    "POST", url, content=body, headers={**sent, **extra_headers}, extensions=extensions
                )
                response = await client.send(request, stream=True)
                try:
                    kept = bytearray()
                    async for chunk in response.aiter_raw():
                        kept += chunk[: config.max_response_bytes - len(kept)]
                        if len(kept) >= config.max_response_bytes:
                            break
                finally:
                    await response.aclose()
    except TimeoutError:
        return Result("failed", error=f"no answer within {config.total_timeout:g} s", latency_ms=_since(started))
    except httpx.HTTPError as error:
        return Result("failed", error=_reason(error), latency_ms=_since(started))
    latency = _since(started)
    status = response.status_code
    excerpt = bytes(kept[:EXCERPT]).decode("utf-8", "replace")
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
