"""How a definitions module says where Redis is.

A connection is either a ``redis://`` / ``rediss://`` / ``unix://`` URL or a
:class:`RedisConnectionOptions` dict. Both are read when the definitions module
is imported, so values taken from ``os.environ`` there are read at run time;
generated code refers to the config object and never copies them.
"""

from __future__ import annotations

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

__all__ = ["ConnectionSpec", "RedisConnectionOptions"]


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
    """``host``/``port`` is a node of a Redis Cluster: connect to the node that owns the
    prefix's hash slot (the prefix must be hash-tagged, such as ``{bull}``)."""


ConnectionSpec = str | RedisConnectionOptions
"""A Redis URL or connection options."""
