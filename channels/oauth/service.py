"""The process-wide part of the OAuth server: each workspace's addresses (issuer, endpoints, RFC 8414
metadata), and running one of its requests through Authlib inside the request's unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from channels.oauth.scopes import SCOPE_KEYS
from channels.oauth.server import WorkspaceServer
from portal.config import Settings
from portal.identity.sessions import Sessions
from portal.identity.throttle import SignInClient

T = TypeVar("T")


class OAuth:
    def __init__(self, settings: Settings, sessions: Sessions) -> None:
        self.base_url = settings.base_url
        # the address clients use: https when TLS ends at a proxy in front, whatever the base URL says
        self.scheme = "https" if settings.secure_cookies else urlsplit(settings.base_url).scheme
        self.sessions = sessions

    def issuer(self, slug: str) -> str:
        """A workspace's issuer identifier: its partner portal's address."""
        return f"{self.base_url}/p/{slug}"

    def metadata(self, slug: str) -> dict[str, Any]:
        """RFC 8414 authorization server metadata of a workspace."""
        api = f"{self.base_url}/api/oauth/{slug}"
        return {
            "issuer": self.issuer(slug),
            "authorization_endpoint": f"{self.issuer(slug)}/oauth/authorize",
            "token_endpoint": f"{api}/token",
            "revocation_endpoint": f"{api}/revoke",
            "introspection_endpoint": f"{api}/introspect",
            "scopes_supported": list(SCOPE_KEYS),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "ui_locales_supported": ["zh-CN", "en"],
            "service_documentation": f"{self.base_url}/api/docs/",
        }

    def public_url(self, request: Request[Any, Any, Any]) -> str:
        """The address the client asked for, on the deployment's public scheme and host."""
        base = urlsplit(self.base_url)
        return urlunsplit((self.scheme, base.netloc, request.url.path, request.url.query, ""))

    async def run(
        self,
        db: AsyncSession,
        tenant_id: uuid.UUID,
        slug: str,
        caller: SignInClient,
        work: Callable[[WorkspaceServer], T],
    ) -> T:
        """`work` with the workspace's server, on the synchronous face of `db` (which must be in the
        workspace's tenant): Authlib's callbacks run there, in this unit of work."""
        issuer = self.issuer(slug)
        return await db.run_sync(
            lambda session: work(WorkspaceServer(session, tenant_id, issuer, self.sessions, caller))
        )
