"""Where the runner's log lines go and what they look like.

By default info lines go to stdout and warnings and errors to stderr, so a
process manager that files stderr as its error log (PM2, systemd, Docker) files
only problems there; ``log_stream`` sends everything to one stream instead.
``log_format="json"`` writes one JSON object per line for log shippers: ``time``
(UTC, ISO 8601), ``level``, ``logger``, ``message``, then the structured fields
of the line (``queue``, ``job_name``, ``job_id``, ``attempt``, ``duration_ms``,
...) and ``exception`` when there is a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import RunnerSettings

__all__ = ["JOBS_LOGGER", "JsonFormatter", "configure_logging"]

JOBS_LOGGER = "bullmq_codegen.jobs"
"""The logger of the per-job lines (``completed: ...``), at INFO when ``log_jobs`` is on."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def configure_logging(settings: RunnerSettings | None = None) -> None:
    """Replace the root logger's handlers by the runner's (level, format and streams of
    ``settings``; the defaults without)."""
    from .settings import RunnerSettings

    settings = settings or RunnerSettings()
    formatter = JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    if settings.log_stream == "split":
        info = logging.StreamHandler(sys.stdout)
        info.addFilter(_BelowWarning())
        problems = logging.StreamHandler(sys.stderr)
        problems.setLevel(logging.WARNING)
        handlers: list[logging.Handler] = [info, problems]
    else:
        handlers = [logging.StreamHandler(getattr(sys, settings.log_stream))]
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=settings.log_level, handlers=handlers, force=True)
    # asked for, the job lines show whatever the level; else they follow it
    jobs = logging.getLogger(JOBS_LOGGER)
    jobs.setLevel(logging.INFO if settings.log_jobs else logging.NOTSET)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # dev says what changed itself
