"""Runner settings: defaults < pyproject < environment < flags, bad values named."""

from __future__ import annotations

import pytest

from bullmq_codegen.runner import RunnerSettings, SettingsError


def test_defaults_are_the_original_designs() -> None:
    settings = RunnerSettings.load()
    assert (
        settings.enabled,
        settings.graceful_shutdown_timeout,
        settings.health_check_interval,
    ) == (True, 30.0, 30.0)
    assert (settings.auto_restart, settings.health_port, settings.health_host) == (
        True,
        None,
        "127.0.0.1",
    )
    assert settings.heartbeat_interval == 10.0


def test_environment_overrides_pyproject_and_flags_override_both() -> None:
    settings = RunnerSettings.load(
        {"gracefulShutdownTimeout": 10_000, "autoRestart": False, "healthPort": 9000},
        {
            "WORKER_GRACEFUL_SHUTDOWN_TIMEOUT": "2500",
            "WORKER_ENABLED": "false",
            "APP_ENV": "production",
        },
        health_port=9100,
        health_host=None,
    )
    assert settings.graceful_shutdown_timeout == 2.5
    assert (settings.enabled, settings.auto_restart, settings.production, settings.health_port) == (
        False,
        False,
        True,
        9100,
    )


@pytest.mark.parametrize(
    ("table", "environ", "message"),
    [
        ({}, {"WORKER_ENABLED": "maybe"}, "WORKER_ENABLED='maybe': use true or false"),
        ({}, {"WORKER_HEALTH_PORT": "http"}, "WORKER_HEALTH_PORT='http': a TCP port"),
        ({}, {"WORKER_REDIS_TIMEOUT": "soon"}, "a number of milliseconds is expected"),
        ({"gracefulShutdownTimout": 1}, {}, "unknown key 'gracefulShutdownTimout'"),
        ({"autoRestart": "yes"}, {}, "autoRestart must be bool"),
        ({"healthCheckInterval": "30s"}, {}, "healthCheckInterval must be milliseconds"),
    ],
)
def test_bad_values_are_named(
    table: dict[str, object], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        RunnerSettings.load(table, environ)
