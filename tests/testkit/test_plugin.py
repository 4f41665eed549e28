"""The pytest plugin, as a user meets it: a test file of theirs, run by pytest in a project
of theirs (pytester, in a subprocess, with the plugin loaded from its entry point)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis import Redis

from bullmq_codegen.testing import RedisSource

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent
USER_TESTS = HERE / "user_tests_example.py"
INI = """
[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
pythonpath = ["."]
{extra}
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester, shop_root: Path, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A user's project: the shop, its generated package, the example test file."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    shutil.copytree(
        shop_root / "shop", pytester.path / "shop", ignore=shutil.ignore_patterns("__pycache__")
    )
    pytester.makepyprojecttoml(INI.format(extra='bullmq_generated = "shop.generated"'))
    shutil.copy(USER_TESTS, pytester.path / "test_shop.py")
    return pytester


def test_the_example_user_tests_pass(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_a_broken_processor_fails_the_test_with_its_error_and_traceback(
    project: pytest.Pytester,
) -> None:
    jobs = project.path / "shop" / "jobs.py"
    source = jobs.read_text()
    broken = source.replace(
        "    return Receipt(order_id=order.order_id, charged_cents=order.amount_cents)",
        '    raise RuntimeError("card declined")',
    )
    assert broken != source
    jobs.write_text(broken)
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-k", "charged_then")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(
        [
            "*JobsFailedError: 1 job(s) failed while the workers drained their queues:",
            "*job 1 'chargeOrder' of queue 'orders' (attempt 1): RuntimeError: card declined",
            "*Traceback (most recent call last):*",
            '*raise RuntimeError("card declined")*',
        ]
    )


def test_without_the_ini_option_the_fixtures_say_what_to_set(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(INI.format(extra=""))
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-k", "own")
    result.assert_outcomes(errors=1, deselected=3)
    result.stdout.fnmatch_lines(
        ['*name your generated package: bullmq_generated = "app.queues.generated"*']
    )


def test_the_fixture_overridden_instead_of_the_ini_option(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(INI.format(extra=""))
    project.makeconftest(
        """
        import pytest
        import shop.generated

        @pytest.fixture
        def bullmq_generated():
            return shop.generated
        """
    )
    result = project.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_on_a_shared_redis_the_tests_leave_no_key_behind(
    project: pytest.Pytester, redis: RedisSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis.url)
    client = Redis.from_url(redis.url, decode_responses=True)
    try:
        before = set(client.scan_iter(match="bullmq-test-*"))
        connections: int = client.info("stats")["total_connections_received"]
        result = project.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=4)
        assert client.info("stats")["total_connections_received"] > connections  # it was used
        assert set(client.scan_iter(match="bullmq-test-*")) == before
    finally:
        client.close()


def test_the_plugin_can_be_turned_off(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:bullmq_codegen")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(["*fixture 'bullmq_runtime' not found*"])


def test_the_fixtures_work_in_pytest_asyncios_strict_mode(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(
        INI.format(extra='bullmq_generated = "shop.generated"').replace(
            'asyncio_mode = "auto"', 'asyncio_mode = "strict"'
        )
    )
    tests = project.path / "test_shop.py"
    tests.write_text(tests.read_text() + "\n\nimport pytest\n\npytestmark = pytest.mark.asyncio\n")
    result = project.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
