"""The runner's settings: the original design's AppConfig ``workers`` block, in Python.

Defaults, then ``[tool.bullmq-codegen.workers]`` in pyproject.toml (the
original's camelCase keys), then the environment, then command-line flags.

| setting | pyproject key | environment | default |
|---|---|---|---|
| enabled | ``enabled`` | ``WORKER_ENABLED`` | true |
| graceful shutdown timeout | ``gracefulShutdownTimeout`` (ms) | ``WORKER_GRACEFUL_SHUTDOWN_TIMEOUT`` | 30000 |
| health check interval | ``healthCheckInterval`` (ms) | ``WORKER_HEALTH_CHECK_INTERVAL`` | 30000 |
| auto restart | ``autoRestart`` | ``WORKER_AUTO_RESTART`` | true |
| health server port | ``healthPort`` | ``WORKER_HEALTH_PORT`` | none (off) |
| health server host | ``healthHost`` | ``WORKER_HEALTH_HOST`` | 127.0.0.1 |
| Redis unreachable bound | ``redisTimeout`` (ms) | ``WORKER_REDIS_TIMEOUT`` | 60000 |
| production mode | ``production`` | ``APP_ENV=production`` | false |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BullMQCodegenError

__all__ = ["RunnerSettings", "SettingsError"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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
        """Defaults < pyproject ``table`` < ``environ`` < non-``None`` ``flags``."""
        values: dict[str, Any] = {}
        for key, value in (table or {}).items():
            values.update(_from_pyproject(key, value))
        for variable, (name, parse) in _ENVIRONMENT.items():
            raw = (environ or {}).get(variable)
            if raw is not None and raw.strip() != "":
                values[name] = parse(raw.strip(), variable)
        app_env = (environ or {}).get("APP_ENV", "").strip().lower()
        if app_env:
            values["production"] = app_env in ("production", "prod")
        values.update({key: value for key, value in flags.items() if value is not None})
        settings = cls(**values)
        if (
            settings.graceful_shutdown_timeout < 0
            or settings.health_check_interval <= 0
            or settings.redis_timeout <= 0
        ):
            raise SettingsError("timeouts and intervals must be positive")
        return settings


def _bool(raw: str, name: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r}: use true or false")


def _milliseconds(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: a number of milliseconds is expected") from None
    return value / 1000


def _port(raw: str, name: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name}={raw!r}: a TCP port (1-65535) is expected")
    return int(raw)


def _text(raw: str, name: str) -> str:
    return raw


_ENVIRONMENT = {
    "WORKER_ENABLED": ("enabled", _bool),
    "WORKER_GRACEFUL_SHUTDOWN_TIMEOUT": ("graceful_shutdown_timeout", _milliseconds),
    "WORKER_HEALTH_CHECK_INTERVAL": ("health_check_interval", _milliseconds),
    "WORKER_AUTO_RESTART": ("auto_restart", _bool),
    "WORKER_HEALTH_PORT": ("health_port", _port),
    "WORKER_HEALTH_HOST": ("health_host", _text),
    "WORKER_REDIS_TIMEOUT": ("redis_timeout", _milliseconds),
}

_PYPROJECT = {
    "enabled": "enabled",
    "gracefulShutdownTimeout": "graceful_shutdown_timeout",
    "healthCheckInterval": "health_check_interval",
    "autoRestart": "auto_restart",
    "healthPort": "health_port",
    "healthHost": "health_host",
    "redisTimeout": "redis_timeout",
    "production": "production",
}


def _from_pyproject(key: str, value: Any) -> dict[str, Any]:
    name = _PYPROJECT.get(key)
    if name is None:
        known = ", ".join(sorted(_PYPROJECT))
        raise SettingsError(
            f"unknown key {key!r} in [tool.bullmq-codegen.workers] (known: {known})"
        )
    field_type = {field.name: field.type for field in dataclasses.fields(RunnerSettings)}[name]
    if name in ("graceful_shutdown_timeout", "health_check_interval", "redis_timeout"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise SettingsError(
                f"[tool.bullmq-codegen.workers] {key} must be milliseconds, not {value!r}"
            )
        return {name: value / 1000}
    expected = bool if field_type == "bool" else (int if name == "health_port" else str)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise SettingsError(
            f"[tool.bullmq-codegen.workers] {key} must be {expected.__name__}, not {value!r}"
        )
    return {name: value}
