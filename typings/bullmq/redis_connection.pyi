from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

class RedisConnection:
    conn: Redis
    commands: dict[str, AsyncScript]
    def __init__(self, redisOpts: Redis | dict[str, Any] | str = ..., skipVersionCheck: bool = ...) -> None: ...
    async def getRedisVersion(self) -> str | None: ...
