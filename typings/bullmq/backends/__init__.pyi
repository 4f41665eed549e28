from .redis_backend import RedisBackend as RedisBackend
