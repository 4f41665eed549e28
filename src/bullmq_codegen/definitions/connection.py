"""How a definitions module says where Redis is.

A connection is either a ``redis://`` / ``rediss://`` / ``unix://`` URL or a
:class:`RedisConnectionOptions` dict. Both are read when the definitions module
is imported, so values taken from ``os.environ`` there are read at run time;
generated code refers to the config object and never copies them.

With Redis Sentinel, ``sentinels`` and ``service`` take the place of ``host`` and
``port``: the master's address is asked of the sentinels, again after a failover.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

__all__ = ["ConnectionSpec", "RedisConnectionOptions", "connection_problems"]


@with_config(ConfigDict(extra="forbid"))
class RedisConnectionOptions(TypedDict, total=False):
    """Keyword options of a Redis connection (a subset of redis-py's, same names)."""

    host: str
    """Host name or address (default ``localhost``)."""
    port: int
    """TCP port (default 6379)."""
    db: int
    """Database number (default 0)."""
    username: str | None
    """ACL user name."""
    password: str | None
    """Password; never logged or shown by bullmq-codegen."""
    ssl: bool
    """Connect with TLS (as a ``rediss://`` URL does)."""
    ssl_ca_certs: str | None
    """Path of the CA bundle used to verify the server's certificate."""
    ssl_certfile: str | None
    """Client certificate, for mutual TLS."""
    ssl_keyfile: str | None
    """Client private key, for mutual TLS."""
    ssl_cert_reqs: str
    """``required`` (default), ``optional`` or ``none``."""
    unix_socket_path: str | None
    """Connect through this Unix socket instead of TCP."""
    socket_connect_timeout: float | None
    """Seconds allowed to open a connection."""
    client_name: str | None
    """Name shown in ``CLIENT LIST``."""
    cluster: bool
    """``host``/``port`` is a node (any one) of a Redis Cluster: each queue's commands go to
    the master that owns its hash slot, following ``MOVED``/``ASK`` and failovers. Each queue
    owns a slot (its name hash-tagged in Redis, ``{emails}``, as Node BullMQ's
    ``new Queue('{emails}')``) unless the prefix is hash-tagged (``{bull}``: every queue in
    that one slot)."""
    sentinels: list[tuple[str, int]]
    """Redis Sentinel: ``(host, port)`` of each sentinel, asked where the master of
    ``service`` is (instead of ``host``/``port``), and again after a failover."""
    service: str
    """Redis Sentinel: the name the sentinels monitor the master under (``mymaster``)."""
    sentinel_username: str | None
    """Redis Sentinel: ACL user name of the sentinels, when they require one."""
    sentinel_password: str | None
    """Redis Sentinel: password of the sentinels (``requirepass`` in ``sentinel.conf``);
    never logged or shown. ``username``/``password`` are the master's."""


ConnectionSpec = str | RedisConnectionOptions
"""A Redis URL or connection options."""

_SENTINEL_ONLY = ("service", "sentinel_username", "sentinel_password")
_NOT_WITH_SENTINELS = ("host", "port", "unix_socket_path", "cluster")
_NOT_WITH_CLUSTER = {
    "db": "a Redis Cluster has only database 0",
    "unix_socket_path": "the nodes of a Redis Cluster are reached over TCP, at the addresses "
    "they announce",
}


def connection_problems(options: Mapping[str, object]) -> list[str]:
    """What is wrong in how connection ``options`` (well typed) combine their keys: those of
    Redis Sentinel, those a Redis Cluster cannot take."""
    problems = _sentinel_problems(options)
    if options.get("cluster") and "sentinels" not in options:  # that one is told already
        problems.extend(
            f"{key!r} does not go with 'cluster': {why}"
            for key, why in _NOT_WITH_CLUSTER.items()
            if options.get(key)
        )
    return problems


def _sentinel_problems(options: Mapping[str, object]) -> list[str]:
    """What is wrong in how connection ``options`` combine the Sentinel keys."""
    if "sentinels" not in options:
        return [
            f"{key!r} is for Redis Sentinel: give 'sentinels' too, the (host, port) of each"
            for key in _SENTINEL_ONLY
            if key in options
        ]
    problems: list[str] = []
    if not options["sentinels"]:
        problems.append("'sentinels' is empty: give the (host, port) of each sentinel")
    if not options.get("service"):
        problems.append(
            "'sentinels' needs 'service': the name the sentinels monitor the master under "
            "(the <master-name> of 'sentinel monitor' in sentinel.conf, such as 'mymaster')"
        )
    problems.extend(
        f"{key!r} does not go with 'sentinels': the sentinels say where the master is"
        for key in _NOT_WITH_SENTINELS
        if key in options
    )
    return problems
