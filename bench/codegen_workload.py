"""Time ``bullmq-codegen generate`` for Q queues with 3 workers each (one JSON line).

python -m bench.codegen_workload QUEUES
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

HEADER = """\
from pydantic import BaseModel
from bullmq_codegen import Job, create_queue_config


class Payload(BaseModel):
    id: int
    note: str


async def process(job: Job[Payload]) -> None:
    return None


async def bare(job: Job[None]) -> None:
    return None


"""


def definitions(queues: int) -> str:
    lines = ["queue_config = create_queue_config(", "    queues={"]
    for index in range(queues):
        lines.append(f'        "queue{index}": {{"workers": {{')
        lines.append(
            f'            "job{index}a": {{"schema": Payload, "processor": process, "options": {{"concurrency": 2}}}},'
        )
        lines.append(f'            "job{index}b": {{"schema": Payload, "processor": process}},')
        lines.append(f'            "job{index}c": {{"processor": bare}},')
        lines.append("        }},")
    lines += ["    },", '    connection="redis://localhost:6379/0",', ")"]
    return HEADER + "\n".join(lines) + "\n"


def main() -> None:
    queues = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as directory:
        package = Path(directory) / "many"
        package.mkdir()
        (package / "__init__.py").touch()
        (package / "defs.py").write_text(definitions(queues))
        started = time.perf_counter()
        from bullmq_codegen import BullMQCodeGen

        BullMQCodeGen(config=package / "defs.py").generate()
        seconds = time.perf_counter() - started
        lines = sum(
            len(path.read_text().splitlines()) for path in (package / "generated").glob("*.py")
        )
    print(json.dumps({"queues": queues, "workers": queues * 3, "seconds": seconds, "lines": lines}))


if __name__ == "__main__":
    main()
