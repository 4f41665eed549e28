"""Small definitions shared by runtime tests (importable by name, as generated code needs)."""

from __future__ import annotations

from pydantic import BaseModel

from bullmq_codegen import Job


class Ping(BaseModel):
    """A tiny payload."""

    host: str


async def ping(job: Job[Ping]) -> str:
    """Returns the host."""
    return job.payload.host
