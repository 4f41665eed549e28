"""What an API process that only enqueues loads: the generated producers import neither the
worker side nor the tools, nor what only a connection needs (each check runs in a fresh
interpreter, whose ``sys.modules`` is the process's own; the bundled example's generated
package, as an app imports it). And what ``bullmq-codegen workers start`` loads before it
prints anything: not rich."""

from __future__ import annotations

import json
import subprocess
import sys

from ..helpers import EXAMPLES

WORKER_SIDE = (
    "app.queues.generated.workers",
    "bullmq_codegen.runtime.group",
    "bullmq_codegen.runtime.worker",
    "bullmq_codegen.runtime.schedules",
    "bullmq_codegen.runtime.cluster",
    "bullmq_codegen.runtime.sentinel_pool",
    "bullmq_codegen.runtime.idempotent",
    "bullmq_codegen.runtime.autopipeline",
    "bullmq_codegen.runner",
    "bullmq_codegen.cli",
    "bullmq_codegen.generator",
    "bullmq_codegen.dashboard",
    "bullmq",
    "redis",
    "hiredis",
    "prometheus_client",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
    "jinja2",
)
"""Modules (and their submodules) an enqueue-only process has no use for until it sends:
the worker side, the tools, and what the first connection imports (redis-py and hiredis, the
auto-pipeline, the cluster router, the Sentinel pool, the duplicate-reporting add, bullmq's
scripts). croniter is not here: the
example's definitions check its nightly schedule's pattern with it."""


def _loaded_after(statement: str, watched: tuple[str, ...] = WORKER_SIDE) -> list[str]:
    """The ``watched`` modules in ``sys.modules`` after ``statement``, in a fresh process."""
    probe = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return [
        name
        for name in loaded
        if any(name == side or name.startswith(side + ".") for side in watched)
    ]


def test_importing_the_producers_loads_no_worker_side() -> None:
    assert _loaded_after("import app.queues.generated.producers") == []
    assert _loaded_after("from app.queues.generated import enqueue_after_sign_up_email") == []


def test_the_worker_side_loads_when_asked_for() -> None:
    # The same probe sees it: the package's workers, the runtime's worker modules, no tools.
    loaded = _loaded_after("from app.queues.generated import create_workers")
    assert "app.queues.generated.workers" in loaded
    assert "bullmq_codegen.runtime.group" in loaded
    assert "bullmq_codegen.runtime.worker.queue_worker" in loaded
    assert [name for name in loaded if name.startswith(("typer", "rich", "starlette"))] == []
    # The modules themselves, as attributes, as before the package's names were lazy.
    assert "app.queues.generated.workers" in _loaded_after(
        "import app.queues.generated as package; assert package.workers.ROUTES"
    )


def test_first_use_loads_what_the_import_deferred() -> None:
    # A runtime's first use on a loop builds its client (no I/O: it connects on its first
    # command), importing redis-py and the cluster router then: deferred, not gone.
    probe = (
        "import asyncio\n"
        "from app.queues.generated import queues\n"
        "async def main():\n"
        "    queues.runtime.context('emailSend')\n"
        "    await queues.close_connections()\n"
        "asyncio.run(main())\n"
    )
    loaded = _loaded_after(probe)
    assert "bullmq_codegen.runtime.cluster" in loaded
    assert "bullmq_codegen.runtime.sentinel_pool" not in loaded  # not a Sentinel connection
    assert "redis.asyncio" in _loaded_after(probe, ("redis",))


def test_the_command_line_loads_rich_only_to_print() -> None:
    # workers start parses its options and runs: its consoles (and rich) are made when
    # something is printed, as an error is.
    assert _loaded_after("import bullmq_codegen.cli.app", ("rich",)) == []
    printed = _loaded_after(
        "from bullmq_codegen.cli.common import fail\nfail('probe')", ("rich.console",)
    )
    assert printed == ["rich.console"]


def test_a_runner_without_a_health_server_loads_no_prometheus() -> None:
    # /metrics is the only reader of the runner's metrics: without a health port, neither they
    # nor prometheus_client are made.
    runner = (
        "from app.queues.generated import queues, workers\n"
        "from bullmq_codegen.runner.settings import RunnerSettings\n"
        "from bullmq_codegen.runner.supervisor import WorkerRunner\n"
        "def made(port):\n"
        "    return WorkerRunner(runtime=queues.runtime, routes=workers.ROUTES,\n"
        "                        settings=RunnerSettings(health_port=port))\n"
    )
    watched = ("prometheus_client",)
    assert _loaded_after(runner + "assert made(None).metrics is None", watched) == []
    assert _loaded_after(runner + "assert made(9).metrics", watched) != []
