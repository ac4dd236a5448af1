"""The access log: one line per request (method, path, status, milliseconds, job id).

A plain ASGI middleware rather than FastAPI's ``@app.middleware("http")``, which wraps every answer
in a streaming response and costs more than the rest of a small request. It never logs a header, so
a token cannot reach the log. Routes name the job a request is about in ``request.state.job_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

access_logger = logging.getLogger("qibo_client.server.access")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


class AccessLog:
    """ASGI middleware: one log line per request (method, path, status, ms, job id); no headers."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        logged = [False]
        state = scope.setdefault("state", {})

        def log() -> None:
            logged[0] = True
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s %s %d %.1fms job=%s",
                    scope["method"],
                    scope["path"],
                    status[0],
                    (time.perf_counter() - started) * 1000,
                    state.get("job_id", "-"),
                )

        async def send_logged(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Log before the last byte leaves: a client never sees an answer not yet logged.
                log()
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            if not logged[0]:
                log()


__all__ = ["AccessLog"]
