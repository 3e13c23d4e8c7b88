"""The production server: uvicorn with uvloop and httptools, one worker process per core by default,
and access logs as JSON lines only when asked for (each line costs every request some work)."""

from __future__ import annotations

import gc
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from portal.logs import SECRET_BEARING_LOGGERS

if TYPE_CHECKING:
    from litestar import Litestar

APP = "portal.http.server:served_app"


class JsonLines(logging.Formatter):
    """One JSON object per line; an access line carries its request's fields by name."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker process answered
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            entry.update(client=client, method=method, path=path, http=version, status=status)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(access_log: bool) -> dict[str, Any]:
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLines}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            # request lines of HTTP clients can carry secrets (portal.logs)
            **{name: {"level": "WARNING"} for name in SECRET_BEARING_LOGGERS},
            "uvicorn.access": {
                "handlers": ["default"],
                "level": "INFO" if access_log else "WARNING",
                "propagate": False,
            },
        },
    }


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def served_app() -> Litestar:
    """The app as each worker process builds it (uvicorn's factory)."""
    from portal.http.app import create_app

    app = create_app()
    app.on_startup.append(freeze_start_up_objects)
    return app


# A request's garbage is freed by reference counting, nearly none of it by the collector; at Python's
# default (700) a young collection runs every few requests and moves the objects of the requests in
# flight into the older generations, which then fill and are walked in turn.
YOUNG_COLLECTION_THRESHOLD = 10_000


def freeze_start_up_objects() -> None:
    """What start-up built (routes, schemas, templates, compiled policies: ~450,000 objects, alive as long
    as the worker) is kept out of the collector's reach. Otherwise each full collection walks all of it,
    finding nothing: 0.25 s idle, 1 s under load, while every request in flight on the worker waits."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def serve(host: str, port: int, *, workers: int, reload: bool = False, access_log: bool = False) -> None:
    import uvicorn

    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        loop="uvloop" if _has("uvloop") else "asyncio",
        http="httptools" if _has("httptools") else "h11",
        proxy_headers=True,
        access_log=access_log,
        log_config=log_config(access_log),
    )


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True
