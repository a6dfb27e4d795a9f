"""Log set-up for the processes (``rantai up``): one line per event on stderr, as JSON or text.

JSON lines carry ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, and the context the
call passes in ``extra`` (``height``, ``tx_count``, ``duration_ms``, ``method``, ``path``,
``status``, ``codes`` ...); python-json-logger writes them. Text lines are for a person at a
terminal: time, level, logger, message, then the context as ``key=value``.

What is logged (docs/operations.md): each committed block with its rejections by reason code
(``rantai.node.node``), alerts recorded (``rantai.supervision.supervisor``), and each API
request (``rantai.api.requests``: method, path without the query, status, duration; never
bodies or headers, which hold signatures and keys).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import IO, Any, Final, Literal

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "LOG_FORMATS",
    "RequestLogMiddleware",
    "TextFormatter",
    "configure_logging",
    "saved_logging",
]

LogFormat = Literal["json", "text"]
LOG_FORMATS: Final = ("json", "text")

# LogRecord's own attributes: everything else on a record came in through ``extra``.
_RECORD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_CONFIGURED: Final = ("rantai", "uvicorn", "uvicorn.error", "uvicorn.access")

requests_log = logging.getLogger("rantai.api.requests")


def context_of(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of ``record``, in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = context_of(record)
        if not context:
            return line
        return line + " " + " ".join(f"{k}={v}" for k, v in context.items())


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes, not as it was at set-up: a
    test runner that swaps stderr for a while must not leave the handler on a closed one."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass  # always sys.stderr


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger", "message": "msg"},
        timestamp="ts",
    )


def configure_logging(
    log_format: str | None = None,
    *,
    level: int = logging.INFO,
    stream: IO[str] | None = None,
) -> LogFormat:
    """Send every ``rantai`` and ``uvicorn`` log record at ``level`` or above to ``stream``
    (stderr) in ``log_format`` (``json`` or ``text``; ``None``: JSON unless the stream is a
    terminal). Replaces the handlers set before, so calling it twice does not double the
    lines. Returns the format chosen.

    Raises:
        ValueError: an unknown format.
    """
    out = sys.stderr if stream is None else stream
    chosen: LogFormat
    if log_format is None:
        chosen = "text" if out.isatty() else "json"
    elif log_format in ("json", "text"):
        chosen = "json" if log_format == "json" else "text"
    else:
        raise ValueError(f"log format: one of {LOG_FORMATS}, not {log_format!r}")
    handler = logging.StreamHandler(out) if stream is not None else _StderrHandler()
    handler.setFormatter(json_formatter() if chosen == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries: only what matters
    for name in _CONFIGURED[:3]:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers.clear()
        logger.propagate = True
    # Requests are logged by RequestLogMiddleware: uvicorn's access log would add the query.
    logging.getLogger("uvicorn.access").disabled = True
    return chosen


def saved_logging() -> Callable[[], None]:
    """Note what ``configure_logging`` changes; the function returned puts it back (for a
    command run inside another program, such as a test runner)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = [logging.getLogger(name) for name in _CONFIGURED]
    states = [(x, x.level, x.disabled, x.propagate, list(x.handlers)) for x in loggers]

    def restore() -> None:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, old_level, disabled, propagate, old_handlers in states:
            logger.setLevel(old_level)
            logger.disabled, logger.propagate = disabled, propagate
            logger.handlers[:] = old_handlers

    return restore


class RequestLogMiddleware:
    """Logs each HTTP request once its response has started: method, path (no query),
    status and duration in ms. Streams are logged when they start, not when they end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_s = time.perf_counter()
        logged = False

        def log(status: int) -> None:
            nonlocal logged
            logged = True
            duration_ms = round((time.perf_counter() - started_s) * 1000, 3)
            requests_log.info(
                "request",
                extra={"method": scope["method"], "path": scope["path"], "status": status,
                       "duration_ms": duration_ms},
            )  # fmt: skip

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start" and not logged:
                log(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            if not logged:
                log(500)
