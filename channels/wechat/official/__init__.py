"""The manufacturer's WeChat official account: its registration, and signing partners in to the partner portal's
pages inside WeChat's browser with WeChat's web authorisation (网页授权)."""
