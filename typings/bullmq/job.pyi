from typing import Any, Protocol

from .backends.redis_backend import RedisBackend

class QueueLike(Protocol):
    @property
    def backend(self) -> RedisBackend: ...
    @property
    def qualifiedName(self) -> str: ...
    @property
    def opts(self) -> dict[str, Any]: ...

optsDecodeMap: dict[str, str]
optsEncodeMap: dict[str, str]

class Job:
    name: str
    id: str
    data: Any
    opts: dict[str, Any]
    queue: QueueLike
    timestamp: int
    delay: int
    priority: int
    attempts: int
    attemptsMade: int
    attemptsStarted: int
    stalledCounter: int
    processedOn: int
    finishedOn: int
    returnvalue: Any
    deferredFailure: str | None
    failedReason: str | None
    repeatJobKey: str | None
    token: str | None
    stacktrace: list[str]
    def __init__(
        self, queue: QueueLike, name: str, data: Any, opts: dict[str, Any] = ..., job_id: str | None = ...
    ) -> None: ...
    async def moveToFailed(self, err: BaseException, token: str, fetchNext: bool = ...) -> Any: ...
    @staticmethod
    def fromJSON(queue: QueueLike, rawData: dict[str, str], jobId: str | None = ...) -> Job: ...

def optsFromJSON(rawOpts: dict[str, Any]) -> dict[str, Any]: ...
