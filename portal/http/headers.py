"""Browser security headers on every response, pages, API, static files and errors alike.

A `before_send` hook rather than a route middleware: the router answers unknown paths (404/405) before
any route middleware runs, and those pages need the headers too. The policy allows no inline script and
no inline style anywhere (templates use static files and classes), with one exception: the API's
interactive documentation, whose vendored RapiDoc writes inline styles; its scripts are still our own.
A response that brings a policy of its own keeps it: a stored file's, which allows nothing at all
(portal/storage/serving.py).
"""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from portal.config import Settings

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(form_action: tuple[str, ...] = ()) -> str:
    """The policy, with `form_action` sources added for a page whose form ends elsewhere: browsers hold the
    redirect that answers a form to form-action too (the OAuth consent page's answer goes to the app)."""
    policy = {**_POLICY, "form-action": " ".join((_POLICY["form-action"], *form_action))}
    return "; ".join(f"{k} {v}" for k, v in policy.items())


CONTENT_SECURITY_POLICY = content_security_policy()
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    f"{k} {v} 'unsafe-inline'" if k == "style-src" else f"{k} {v}" for k, v in _POLICY.items()
)
DOCS_PREFIX = "/api/docs"
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings, docs_prefix: str = DOCS_PREFIX) -> BeforeMessageSendHookHandler:
    """The hook for `Litestar(before_send=[...])`: HSTS only when browsers reach us over TLS. The headers are
    encoded once, here: every response carries them."""
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.secure_cookies:
        fixed["Strict-Transport-Security"] = HSTS
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fixed.items()]
    replaced = frozenset(name for name, _ in encoded)
    policy, docs_policy = CONTENT_SECURITY_POLICY.encode("latin-1"), DOCS_CONTENT_SECURITY_POLICY.encode("latin-1")

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers: list[tuple[bytes, bytes]] = []
        has_policy = False
        for header in message.get("headers") or ():
            name = header[0].lower()
            if name in replaced:
                continue
            has_policy = has_policy or name == _CSP
            headers.append(header)
        if not has_policy:
            path = scope.get("path", "")
            docs = path == docs_prefix or path.startswith(docs_prefix + "/")
            headers.append((_CSP, docs_policy if docs else policy))
        headers += encoded
        message["headers"] = headers

    return add_security_headers


_CSP = b"content-security-policy"
