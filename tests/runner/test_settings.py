"""Runner settings: defaults < pyproject < environment < flags, bad values named as given."""

from __future__ import annotations

import re

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
    assert (settings.log_level, settings.log_format, settings.log_stream, settings.log_jobs) == (
        "INFO",
        "text",
        "split",
        False,
    )


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


def test_log_settings_from_every_source() -> None:
    settings = RunnerSettings.load(
        {"logFormat": "json", "logStream": "stderr", "logJobs": True, "logLevel": "debug"},
        {"LOG_STREAM": "stdout", "LOG_LEVEL": "warning"},
        log_level="error",
        log_jobs=False,
    )
    assert (settings.log_level, settings.log_format, settings.log_stream, settings.log_jobs) == (
        "ERROR",
        "json",
        "stdout",
        False,
    )
    assert RunnerSettings.load({}, {"LOG_JOBS": "yes", "LOG_FORMAT": "JSON"}).log_jobs
    assert RunnerSettings.load({}, {}, health_port="8081").health_port == 8081  # as typed


@pytest.mark.parametrize(
    ("table", "environ", "flags", "message"),
    [
        ({}, {"WORKER_ENABLED": "maybe"}, {}, "WORKER_ENABLED='maybe': use true or false"),
        ({}, {"WORKER_HEALTH_PORT": "http"}, {}, "WORKER_HEALTH_PORT='http': a TCP port"),
        ({}, {"WORKER_HEALTH_PORT": "99999"}, {}, "WORKER_HEALTH_PORT='99999': a TCP port"),
        ({}, {}, {"health_port": "99999"}, "--health-port='99999': a TCP port (1-65535)"),
        ({}, {}, {"health_port": 99999}, "--health-port=99999: a TCP port (1-65535)"),
        ({}, {}, {"health_port": 0}, "--health-port=0: a TCP port (1-65535)"),
        ({}, {}, {"health_host": " "}, "--health-host=' ': a host name or IP address"),
        (
            {"healthPort": 99999},
            {},
            {},
            "[tool.bullmq-codegen.workers] healthPort=99999: a TCP port (1-65535)",
        ),
        (
            {},
            {"WORKER_REDIS_TIMEOUT": "soon"},
            {},
            "WORKER_REDIS_TIMEOUT='soon': a positive number of milliseconds is expected",
        ),
        ({}, {"WORKER_REDIS_TIMEOUT": "0"}, {}, "WORKER_REDIS_TIMEOUT='0': a positive number"),
        ({}, {"WORKER_HEALTH_CHECK_INTERVAL": "nan"}, {}, "WORKER_HEALTH_CHECK_INTERVAL='nan'"),
        (
            {},
            {"WORKER_GRACEFUL_SHUTDOWN_TIMEOUT": "-1"},
            {},
            "WORKER_GRACEFUL_SHUTDOWN_TIMEOUT='-1': a number of milliseconds (0 or more)",
        ),
        ({}, {"LOG_LEVEL": "verbose"}, {}, "LOG_LEVEL='verbose': use DEBUG, INFO, WARNING"),
        ({}, {}, {"log_format": "xml"}, "--log-format='xml': use text or json"),
        ({}, {}, {"log_stream": "both"}, "--log-stream='both': use split, stdout or stderr"),
        ({"gracefulShutdownTimout": 1}, {}, {}, "unknown key 'gracefulShutdownTimout'"),
        ({"autoRestart": "yes"}, {}, {}, "autoRestart='yes': use true or false"),
        (
            {"healthCheckInterval": "30s"},
            {},
            {},
            "healthCheckInterval='30s': a positive number of milliseconds",
        ),
    ],
)
def test_bad_values_are_named(
    table: dict[str, object], environ: dict[str, str], flags: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        RunnerSettings.load(table, environ, **flags)
