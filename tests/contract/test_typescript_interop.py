"""The TypeScript producers and the Python workers of the same definitions, on one Redis.

A Node script (``node/ts_interop.ts``, compiled with the bundled example's export
by ``tsc --strict``) enqueues through the generated producers while the example's
generated Python workers run: it reads typed results back, a payload Zod rejects
never reaches Redis, and one sent raw past Zod fails in the worker without retry.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bullmq_codegen.contract import load_contract
from bullmq_codegen.contract.typescript import render_typescript
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_typescript, tsc_command

from .test_typescript_export import BUNDLED, TSCONFIG

SCRIPT = Path(__file__).parent / "node" / "ts_interop.ts"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Node script and the bundled example's export, compiled to JavaScript."""
    modules = node_typescript()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the Node producers")
    project = tmp_path_factory.mktemp("ts-interop")
    (project / "node_modules").symlink_to(modules)
    (project / "tsconfig.json").write_text(
        TSCONFIG.replace('"strict": true,', '"strict": true,\n    "outDir": "out",')
    )
    (project / "bundled").mkdir()
    for name, text in render_typescript(load_contract(str(BUNDLED))).items():
        (project / "bundled" / name).write_text(text)
    (project / SCRIPT.name).write_text(SCRIPT.read_text())
    completed = subprocess.run(
        [*tsc_command(modules), "--strict", "-p", str(project)],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return project / "out" / "ts_interop.js"


async def test_node_producers_and_python_workers(
    example: ModuleType, redis_env: RedisSource, prefix: str, compiled: Path
) -> None:
    async with example.create_workers():
        node = await asyncio.to_thread(
            subprocess.run,
            ["node", str(compiled), redis_env.url, prefix],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ),
            check=False,
        )
    assert node.returncode == 0, node.stderr
    seen: dict[str, Any] = json.loads(node.stdout)

    # typed results from the Python processors, parsed in Node
    assert seen["sent"]["to"] == "node@example.com"
    assert seen["sent"]["message_id"].endswith("@example.com>")
    assert seen["cleaned"] is None
    # the job as Python's producers would add it: the job name's defaults (the queue's
    # removeOnComplete/removeOnFail/attempts/backoff) under the call's options
    added = seen["added"]
    assert (added["name"], added["data"]) == (
        "afterSignUpEmail",
        {"to": "ada@example.com", "template": "w"},
    )
    assert added["opts"]["attempts"] == 3
    assert added["opts"]["backoff"] == {"type": "exponential", "delay": 2000}
    python_side = await example.get_after_sign_up_email_job(added["id"]).result(timeout=10)
    assert python_side.to == "ada@example.com"

    # Zod refused the address: nothing was added, not even a job id taken
    assert seen["rejected"] == ["to"]
    assert seen["before"] == seen["after"]

    # the raw payload: failed by the worker's validation, once, though 3 attempts were allowed
    assert "invalid payload for job 'afterSignUpEmail'" in seen["failedReason"]
    assert (seen["state"], seen["attemptsMade"]) == ("failed", 1)
