"""A manufacturer's WeChat mini-program: its registration, signing partners in with WeChat, and the API of WeChat."""
