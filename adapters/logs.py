"""structlog set-up: JSON lines when not on a terminal, readable lines on one."""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure(level: str | None = None, stream=None) -> None:  # type: ignore[no-untyped-def]
    stream = stream or sys.stderr
    # People at a terminal see warnings; services and pipes get the full INFO stream.
    default = "WARNING" if stream.isatty() else "INFO"
    level_name = (level or os.environ.get("RECTIFY_LOG_LEVEL") or default).upper()
    renderer: structlog.typing.Processor
    if stream.isatty():
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("msg", replace_by="_event"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level_name, logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
