"""Request lines of HTTP clients (which can carry a WeChat app secret or access token in their query
string) never reach the log, in the web server's configuration and in every other process's."""

from __future__ import annotations

import logging

from portal.http.server import log_config
from portal.logs import SECRET_BEARING_LOGGERS, configure_logging


def test_http_clients_log_warnings_only_whatever_the_level() -> None:
    configure_logging(logging.DEBUG)
    for name in SECRET_BEARING_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
    served = log_config(access_log=True)["loggers"]
    assert all(served[name]["level"] == "WARNING" for name in SECRET_BEARING_LOGGERS)
