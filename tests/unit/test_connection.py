"""Connections are shown without credentials."""

from __future__ import annotations

import pytest

from bullmq_codegen.definitions.connection import ConnectionSpec
from bullmq_codegen.runtime.connection import describe_connection


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("redis://user:s3cret@cache.internal:6380/2", "redis://***@cache.internal:6380/2"),
        ("rediss://:s3cret@cache.internal/0", "rediss://***@cache.internal/0"),
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ({"host": "h", "port": 7000, "password": "s3cret", "db": 3}, "redis://***@h:7000/3"),
        ({"host": "h", "ssl": True}, "rediss://h:6379/0"),
        (
            {"unix_socket_path": "/run/redis.sock", "password": "s3cret"},
            "unix:///run/redis.sock?db=0",
        ),
    ],
)
def test_credentials_never_show(spec: ConnectionSpec, shown: str) -> None:
    assert describe_connection(spec) == shown
    assert "s3cret" not in describe_connection(spec)
