"""The runner's settings: the original design's AppConfig ``workers`` block, in Python.

Defaults, then ``[tool.bullmq-codegen.workers]`` in pyproject.toml (the
original's camelCase keys), then the environment, then command-line flags.
Every value is checked the same way wherever it comes from, and a bad one is
named as it was given: ``WORKER_HEALTH_PORT='99999'``, ``--health-port=99999``
or ``[tool.bullmq-codegen.workers] healthPort=99999``.

| setting | pyproject key | environment | flag | default |
|---|---|---|---|---|
| enabled | ``enabled`` | ``WORKER_ENABLED`` | | true |
| graceful shutdown timeout | ``gracefulShutdownTimeout`` (ms) | ``WORKER_GRACEFUL_SHUTDOWN_TIMEOUT`` | | 30000 |
| health check interval | ``healthCheckInterval`` (ms) | ``WORKER_HEALTH_CHECK_INTERVAL`` | | 30000 |
| auto restart | ``autoRestart`` | ``WORKER_AUTO_RESTART`` | | true |
| health server port | ``healthPort`` | ``WORKER_HEALTH_PORT`` | ``--health-port`` | none (off) |
| health server host | ``healthHost`` | ``WORKER_HEALTH_HOST`` | ``--health-host`` | 127.0.0.1 |
| Redis unreachable bound | ``redisTimeout`` (ms) | ``WORKER_REDIS_TIMEOUT`` | | 60000 |
| production mode | ``production`` | ``APP_ENV=production`` | | false |
| log level | ``logLevel`` | ``LOG_LEVEL`` | ``--log-level`` | INFO |
| log format (text, json) | ``logFormat`` | ``LOG_FORMAT`` | ``--log-format`` | text |
| log stream (split, stdout, stderr) | ``logStream`` | ``LOG_STREAM`` | ``--log-stream`` | split |
| a log line per completed job | ``logJobs`` | ``LOG_JOBS`` | ``--log-jobs`` | false |
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import BullMQCodegenError

__all__ = ["LOG_FORMATS", "LOG_LEVELS", "LOG_STREAMS", "RunnerSettings", "SettingsError"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_TABLE = "[tool.bullmq-codegen.workers]"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
LOG_STREAMS = ("split", "stdout", "stderr")

LogFormat = Literal["text", "json"]
LogStream = Literal["split", "stdout", "stderr"]


class SettingsError(BullMQCodegenError):
    """A runner setting has a value it cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """How the worker runner behaves."""

    enabled: bool = True
    graceful_shutdown_timeout: float = 30.0
    """Seconds running jobs get to finish after SIGTERM/SIGINT."""
    health_check_interval: float = 30.0
    """Seconds between health log lines."""
    auto_restart: bool = True
    """Restart a worker that died, within the process, with backoff."""
    health_port: int | None = None
    health_host: str = "127.0.0.1"
    redis_timeout: float = 60.0
    """Seconds Redis may stay unreachable before the process exits non-zero."""
    production: bool = False
    log_level: str = "INFO"
    """The runner's log level (one of :data:`LOG_LEVELS`)."""
    log_format: LogFormat = "text"
    """``text`` lines, or ``json``: one JSON object per line, for log shippers."""
    log_stream: LogStream = "split"
    """``split``: info to stdout, warnings and errors to stderr; or all to one of them."""
    log_jobs: bool = False
    """Log a line per completed job (queue, name, id, attempt, duration)."""

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats in Redis (what ``get_worker_health`` reads)."""
        return min(self.health_check_interval, 10.0)

    @classmethod
    def load(
        cls,
        table: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        **flags: Any,
    ) -> RunnerSettings:
        """Defaults < pyproject ``table`` < ``environ`` < non-``None`` ``flags``.

        ``flags`` are keyed by setting (``health_port=...``), typed or as typed on
        the command line; each is checked as the environment's are, and named
        by its flag when it is bad.
        """
        values: dict[str, Any] = {}
        by_key = {setting.key: setting for setting in _SETTINGS}
        for key, value in (table or {}).items():
            setting = by_key.get(key)
            if setting is None:
                raise SettingsError(
                    f"unknown key {key!r} in {_TABLE} (known: {', '.join(sorted(by_key))})"
                )
            values[setting.name] = setting.parse(value, f"{_TABLE} {key}", False)
        for setting in _SETTINGS:
            if setting.variable is None:
                continue
            raw = (environ or {}).get(setting.variable, "").strip()
            if raw:
                values[setting.name] = setting.parse(raw, setting.variable, True)
        app_env = (environ or {}).get("APP_ENV", "").strip().lower()
        if app_env:
            values["production"] = app_env in ("production", "prod")
        by_name = {setting.name: setting for setting in _SETTINGS}
        for name, value in flags.items():
            setting = by_name.get(name)
            if setting is None or setting.flag is None:
                raise TypeError(f"no runner flag sets {name!r}")
            if value is not None:
                values[name] = setting.parse(value, setting.flag, True)
        return cls(**values)


Parse = Callable[[object, str, bool], Any]
"""``parse(value, label, from_text)``: the setting's value, or :class:`SettingsError`."""


@dataclass(frozen=True, slots=True)
class _Setting:
    name: str
    key: str
    variable: str | None
    flag: str | None
    parse: Parse


def _bad(label: str, value: object, expected: str) -> SettingsError:
    return SettingsError(f"{label}={value!r}: {expected}")


def _bool(value: object, label: str, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    raise _bad(label, value, "use true or false")


def _milliseconds(*, positive: bool) -> Parse:
    expected = (
        "a positive number of milliseconds is expected"
        if positive
        else "a number of milliseconds (0 or more) is expected"
    )

    def parse(value: object, label: str, from_text: bool) -> float:
        number: object = value
        if from_text and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise _bad(label, value, expected) from None
        if (
            not isinstance(number, int | float)
            or isinstance(number, bool)
            or not math.isfinite(number)
            or number < 0
            or (positive and number == 0)
        ):
            raise _bad(label, value, expected)
        return number / 1000

    return parse


def _port(value: object, label: str, from_text: bool) -> int:
    number: object = value
    if from_text and isinstance(value, str) and value.isdigit():
        number = int(value)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536:
        raise _bad(label, value, "a TCP port (1-65535) is expected")
    return number


def _host(value: object, label: str, from_text: bool) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise _bad(label, value, "a host name or IP address to listen on is expected")
    return value


def _choice(choices: tuple[str, ...], *, upper: bool = False) -> Parse:
    def parse(value: object, label: str, from_text: bool) -> str:
        if isinstance(value, str):
            normal = value.upper() if upper else value.lower()
            if normal in choices:
                return normal
        raise _bad(label, value, f"use {', '.join(choices[:-1])} or {choices[-1]}")

    return parse


_SETTINGS = (
    _Setting("enabled", "enabled", "WORKER_ENABLED", None, _bool),
    _Setting(
        "graceful_shutdown_timeout",
        "gracefulShutdownTimeout",
        "WORKER_GRACEFUL_SHUTDOWN_TIMEOUT",
        None,
        _milliseconds(positive=False),
    ),
    _Setting(
        "health_check_interval",
        "healthCheckInterval",
        "WORKER_HEALTH_CHECK_INTERVAL",
        None,
        _milliseconds(positive=True),
    ),
    _Setting("auto_restart", "autoRestart", "WORKER_AUTO_RESTART", None, _bool),
    _Setting("health_port", "healthPort", "WORKER_HEALTH_PORT", "--health-port", _port),
    _Setting("health_host", "healthHost", "WORKER_HEALTH_HOST", "--health-host", _host),
    _Setting(
        "redis_timeout", "redisTimeout", "WORKER_REDIS_TIMEOUT", None, _milliseconds(positive=True)
    ),
    _Setting("production", "production", None, None, _bool),
    _Setting("log_level", "logLevel", "LOG_LEVEL", "--log-level", _choice(LOG_LEVELS, upper=True)),
    _Setting("log_format", "logFormat", "LOG_FORMAT", "--log-format", _choice(LOG_FORMATS)),
    _Setting("log_stream", "logStream", "LOG_STREAM", "--log-stream", _choice(LOG_STREAMS)),
    _Setting("log_jobs", "logJobs", "LOG_JOBS", "--log-jobs", _bool),
)
