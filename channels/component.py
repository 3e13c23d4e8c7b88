"""channels/ as a component: the OAuth 2.1 authorization server's tables."""

from __future__ import annotations

from portal.components import Component

component = Component(name="channels", order=350, model_modules=("channels.oauth.models",))
