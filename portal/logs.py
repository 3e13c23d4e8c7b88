"""The logging every process of the application starts with (web server, workers, commands)."""

from __future__ import annotations

import logging

# HTTP clients log each request's whole address at INFO, and some addresses carry secrets (WeChat's API
# takes the mini-program's app secret and its access token in the query string): their request lines never
# reach the log, whatever level the rest of the application logs at.
SECRET_BEARING_LOGGERS = ("httpx", "httpcore")


def configure_logging(level: int, fmt: str | None = None) -> None:
    logging.basicConfig(level=level, **({"format": fmt} if fmt else {}))
    quiet_secret_bearing_loggers()


def quiet_secret_bearing_loggers() -> None:
    for name in SECRET_BEARING_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
