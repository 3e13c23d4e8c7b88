"""The OAuth 2.1 authorization server through which partners' applications act for them (channels/oauth)."""
