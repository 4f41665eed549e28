"""How long the dashboard's pages take, and how many Redis commands each costs, with 50 queues
holding 1,000,000 jobs.

A redis-server of its own is filled in BullMQ's key layout (a job hash per job
and its id in the state's list or sorted set, written by a Lua loop so that
filling takes seconds, not the minutes a million adds would), then each page
is loaded ``--loads`` times through the ASGI app in-process (the time of the
HTTP layer of a real server is left out). ``INFO commandstats`` before and
after each page's loads gives the commands per load; ``KEYS`` and ``SCAN`` must
not appear. Prints a Markdown table (docs/benchmarks/dashboard.md has its figures), and with
``--out`` writes every figure as JSON.

    uv run --frozen python -m bench.dashboard [--queues 50] [--jobs 1000000] [--loads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from redis.asyncio import Redis

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.dashboard import create_app
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisServer, find_redis_server

# Writes ``count`` jobs of queue KEYS[1] (its key prefix): a quarter waiting, the rest split
# between completed, failed and delayed, each with a job hash as BullMQ stores it.
FILL = """
local prefix, name, first, count, now = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = first, first + count - 1 do
  local id = tostring(i)
  local data = '{"to":"user' .. id .. '@example.com","subject":"hello ' .. id .. '"}'
  local kind = i % 4
  local fields = {"name", name, "data", data, "opts", '{"attempts":3}', "timestamp", now - i, "atm", "0"}
  if kind == 1 then
    table.insert(fields, "finishedOn"); table.insert(fields, now - i)
    table.insert(fields, "returnvalue"); table.insert(fields, '{"message_id":"m' .. id .. '"}')
    redis.call("ZADD", prefix .. "completed", now - i, id)
  elseif kind == 2 then
    table.insert(fields, "finishedOn"); table.insert(fields, now - i)
    table.insert(fields, "failedReason"); table.insert(fields, "smtp server down")
    table.insert(fields, "stacktrace"); table.insert(fields, '["RuntimeError: smtp server down"]')
    redis.call("ZADD", prefix .. "failed", now - i, id)
  elseif kind == 3 then
    redis.call("ZADD", prefix .. "delayed", (now + 3600000) * 4096 + (i % 4096), id)
  else
    redis.call("LPUSH", prefix .. "wait", id)
  end
  redis.call("HSET", prefix .. id, unpack(fields))
end
redis.call("SET", prefix .. "id", first + count - 1)
return count
"""


class Mail(BaseModel):
    to: str
    subject: str


class MailSent(BaseModel):
    message_id: str


async def send(job: Job[Mail]) -> MailSent:
    return MailSent(message_id=str(job.id))


def definitions(queues: int, url: str) -> Any:
    return create_queue_config(
        queues={
            f"queue{index:02}": {
                "workers": {f"send{index:02}": {"schema": Mail, "processor": send}}
            }
            for index in range(queues)
        },
        connection=url,
        prefix="bench",
    )


async def fill(client: Redis, queues: int, jobs: int) -> float:
    started = time.perf_counter()
    script = client.register_script(FILL)
    per_queue = jobs // queues
    now = int(time.time() * 1000)
    for index in range(queues):
        for first in range(1, per_queue + 1, 5000):
            count = min(5000, per_queue - first + 1)
            await script(
                keys=[f"bench:queue{index:02}:"],
                args=[f"send{index:02}", first, count, now],
            )
    return time.perf_counter() - started


async def commandstats(client: Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def measure(client: Redis, dash: httpx.AsyncClient, path: str, loads: int) -> dict[str, Any]:
    first = await dash.get(path)  # scripts loaded, connections open
    assert first.status_code == 200, (path, first.status_code, first.text[:500])
    await client.config_resetstat()
    times: list[float] = []
    for _ in range(loads):
        started = time.perf_counter()
        response = await dash.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    calls = await commandstats(client)
    calls.pop("config|resetstat", None)
    calls.pop("info", None)
    per_load = {name: count / loads for name, count in sorted(calls.items())}
    return {
        "path": path,
        "loads": loads,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "commands_per_load": sum(per_load.values()),
        "scripts_per_load": per_load.get("evalsha", 0.0),
        "by_command": per_load,
        "keys_or_scan": any(name in per_load for name in ("keys", "scan")),
        "bytes": len(response.content),
    }


async def run(queues: int, jobs: int, loads: int) -> dict[str, Any]:
    found = find_redis_server()
    assert found is not None, "redis-server is needed"
    server = RedisServer(found[0])
    server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    runtime = Runtime(definitions(queues, server.url))
    try:
        filled = await fill(client, queues, jobs)
        keys = await client.dbsize()
        info = await client.info("server")
        app = create_app(runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as dash:
            pages = [
                await measure(client, dash, path, loads)
                for path in (
                    "/",
                    "/api/overview",
                    "/queues/queue00?state=waiting",
                    "/queues/queue00?state=failed&start=2500",
                    "/queues/queue00/jobs/2",
                    "/queues/queue00/jobs/1",
                )
            ]
        return {
            "queues": queues,
            "jobs": jobs,
            "redis_keys": keys,
            "fill_seconds": filled,
            "redis": f"redis-server {info['redis_version']}",
            "python": platform.python_version(),
            "machine": platform.machine(),
            "pages": pages,
        }
    finally:
        await runtime.close()
        await client.aclose()
        server.cleanup()


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['queues']} queues, {results['jobs']:,} jobs ({results['redis_keys']:,} keys); "
        f"{results['redis']}",
        "",
        "| page | median | max | Redis commands per load (scripts) | KEYS/SCAN |",
        "|---|---:|---:|---:|---|",
    ]
    for page in results["pages"]:
        lines.append(
            f"| `{page['path']}` | {page['median_ms']:.1f} ms | {page['max_ms']:.1f} ms | "
            f"{page['commands_per_load']:.0f} ({page['scripts_per_load']:.0f}) | "
            f"{'yes' if page['keys_or_scan'] else 'none'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--out", type=Path, help="Write every figure to this JSON file.")
    arguments = parser.parse_args()
    results = asyncio.run(run(arguments.queues, arguments.jobs, arguments.loads))
    print(table(results))
    if arguments.out is not None:
        arguments.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {arguments.out}")


if __name__ == "__main__":
    main()
