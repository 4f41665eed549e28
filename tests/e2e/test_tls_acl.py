"""TLS and ACL users: generated producers, workers and ``bullmq-codegen workers start`` (with its
health endpoints) on a TLS-enabled Redis, as a user limited to the queue's keys by the ACL
rules the README gives; a wrong CA is an error naming the certificate problem.

The server (certificates made by the test with ``openssl``) serves TLS and refuses
the ``default`` user; an ``admin`` user sets up each test's limited user and reads
``ACL LOG``, where Redis records every command it refused: it must stay empty.
"""

from __future__ import annotations

import shutil
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bullmq_codegen.testing import RedisServer, RedisUnavailableError, find_redis_server, free_port
from bullmq_codegen.testing.tls import Certificates, make_certificates

from ..helpers import generated_case, import_fresh, purge_modules
from ..runner.support import RunnerProcess, child_env, http_get

pytestmark = pytest.mark.slow

_ADMIN_PASSWORD = "admin-secret"
_APP_PASSWORD = "app-secret"
_APP_RULES = ["+@all", "-@dangerous", "+info", "+client|unblock"]
"""What a bullmq-codegen user needs beyond its keys (README, "TLS and ACL users")."""


class TlsRedis:
    """A TLS-enabled redis-server whose ``default`` user is off; ``admin`` may do anything."""

    def __init__(self, server: RedisServer, tls_port: int, certificates: Certificates) -> None:
        self.server = server
        self.tls_port = tls_port
        self.certificates = certificates

    def admin(self) -> Redis:
        return Redis(
            port=self.server.port, username="admin", password=_ADMIN_PASSWORD, decode_responses=True
        )


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    found = find_redis_server()
    if found is None:
        pytest.skip("needs redis-server; ./dev installs it")
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make the test's certificates; ./dev installs it")
    certificates = make_certificates(tmp_path_factory.mktemp("certificates"))
    tls_port = free_port()
    server = RedisServer(
        found[0],
        directory=tmp_path_factory.mktemp("tls-redis"),
        extra_args=[
            *certificates.server_args(tls_port),
            *("--user", "default", "off"),
            *("--user", "admin", "on", f">{_ADMIN_PASSWORD}", "~*", "&*", "+@all"),
        ],
    )
    try:
        server.start()
    except RedisUnavailableError as error:
        server.cleanup()
        if "tls" not in str(error).lower():
            raise
        pytest.skip(f"this redis-server cannot serve TLS (built without it?): {error}")
    try:
        yield TlsRedis(server, tls_port, certificates)
    finally:
        server.cleanup()


@pytest.fixture
def app_env(
    tls_redis: TlsRedis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A user limited to ``prefix``'s keys, and the environment the case reads."""
    user = f"app-{uuid.uuid4().hex[:8]}"
    with tls_redis.admin() as admin:
        admin.execute_command(  # pyright: ignore[reportUnknownMemberType]
            "ACL", "SETUSER", user, "on", f">{_APP_PASSWORD}", f"~{prefix}:*", *_APP_RULES
        )
        admin.execute_command("ACL", "LOG", "RESET")  # pyright: ignore[reportUnknownMemberType]
    env = {
        "TLS_REDIS_PORT": str(tls_redis.tls_port),
        "TLS_CA_CERTS": str(tls_redis.certificates.ca),
        "REDIS_USERNAME": user,
        "REDIS_PASSWORD": _APP_PASSWORD,
        "BULLMQ_PREFIX": prefix,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    with tls_redis.admin() as admin:
        admin.execute_command("ACL", "DELUSER", user)  # pyright: ignore[reportUnknownMemberType]


@pytest.fixture
def tls_root(tmp_path: Path, app_env: dict[str, str]) -> Path:
    """The case, generated (which imports its definitions: they read ``app_env``)."""
    return generated_case("tls", tmp_path, "tl/jobs.py")


@pytest.fixture
async def tasks(tls_root: Path, app_env: dict[str, str]) -> AsyncIterator[ModuleType]:
    package = import_fresh(tls_root, "tl.generated")
    yield package
    await package.close_connections()
    purge_modules("tl")


def _refused(tls_redis: TlsRedis) -> list[object]:
    """What Redis refused anyone since the test's user was made (``ACL LOG``)."""
    with tls_redis.admin() as admin:
        return list(admin.acl_log())  # pyright: ignore[reportUnknownMemberType,reportUnknownArgumentType]


async def test_producers_and_workers_over_tls_as_a_limited_user(
    tasks: ModuleType, tls_redis: TlsRedis, prefix: str
) -> None:
    from tl.jobs import Text

    jobs = await tasks.enqueue_shout_bulk([Text(text=f"hi {n}") for n in range(20)])
    single = await tasks.enqueue_shout(Text(text="one"))
    async with tasks.create_workers():
        results = [await job.wait_until_finished(timeout=20) for job in [*jobs, single]]
        health = await tasks.get_worker_health()
    assert results == [f"HI {n}" for n in range(20)] + ["ONE"]
    assert health["queues"]["tasks"]["alive"] == 1
    assert _refused(tls_redis) == []  # the ACL rules allow every command used
    with tls_redis.admin() as admin:
        assert admin.zcard(f"{prefix}:tasks:completed") == 21


async def test_workers_start_and_its_health_over_tls_as_a_limited_user(
    tasks: ModuleType, tls_root: Path, app_env: dict[str, str], tls_redis: TlsRedis
) -> None:
    from tl.jobs import Text

    port = free_port()
    runner = RunnerProcess(
        tls_root, child_env(**app_env), "--health-port", str(port), config="tl/jobs.py"
    )
    try:
        await runner.started(queues=("tasks",))
        job = await tasks.enqueue_shout(Text(text="from afar"))
        assert await job.wait_until_finished(timeout=20) == "FROM AFAR"
        status, ready = http_get(port, "/health/ready")
        assert status == 200
        assert isinstance(ready, dict)
        assert (ready["redis"], ready["workers"]) == ("ok", {"tasks": "running"})
        status, workers = http_get(port, "/health/workers")
        assert status == 200
        assert isinstance(workers, dict)
        assert workers["heartbeats"]["queues"]["tasks"]["alive"] == 1  # type: ignore[index]
        runner.signal(signal.SIGTERM)
        assert runner.wait() == 0, runner.log
    finally:
        runner.stop()
    assert "rediss://***@127.0.0.1" in runner.log  # where, without the user or password
    assert _APP_PASSWORD not in runner.log
    assert _refused(tls_redis) == []


async def test_a_wrong_ca_is_an_error_naming_the_certificate_problem(
    tls_root: Path,
    app_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = make_certificates(tmp_path / "other", name="another")
    monkeypatch.setenv("TLS_CA_CERTS", str(other.ca))
    package = import_fresh(tls_root, "tl.generated")
    try:
        from tl.jobs import Text

        with pytest.raises(RedisConnectionError, match="certificate verify failed"):
            await package.enqueue_shout(Text(text="never"))
    finally:
        await package.close_connections()
        purge_modules("tl")
    # the default redisTimeout (60 s): a certificate refused is a setting to fix, so the
    # runner exits at once instead of retrying it for a minute as if Redis were down
    runner = RunnerProcess(
        tls_root, child_env(**{**app_env, "TLS_CA_CERTS": str(other.ca)}), config="tl/jobs.py"
    )
    try:
        assert runner.wait(timeout=60) == 1, runner.log
    finally:
        runner.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in runner.log, runner.log
    assert "the connection's CA (ssl_ca_certs) does not vouch for" in runner.log, runner.log
    assert "retrying" not in runner.log, runner.log
