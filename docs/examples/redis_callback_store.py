"""Recipe: share handled callbacks and per-payment locks between workers through Redis.

With several worker processes (``uvicorn --workers 4``, several pods), the in-memory store and
locks only cover one process. Give the processor these instead::

    redis = Redis.from_url("redis://localhost:6379/0")
    processor = CallbackProcessor(
        on_callback, secret=secret, store=RedisCallbackStore(redis), locks=redis_locks(redis)
    )
"""

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

from redis.asyncio import Redis

from qvickly_async.callbacks import Callback, CallbackProcessor, LockFactory
from qvickly_async.sandbox import callback_body, callback_data


class RedisCallbackStore:
    """Handled events as Redis keys that expire (Qvickly stops retrying after 3 months)."""

    def __init__(self, redis: Redis, *, prefix: str = "qvickly:handled:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = 100 * 24 * 3600  # seconds: longer than Qvickly's retry schedule

    async def is_handled(self, key: str) -> bool:
        return bool(await self.redis.exists(self.prefix + key))

    async def mark_handled(self, key: str) -> None:
        await self.redis.set(self.prefix + key, "1", ex=self.ttl)


def redis_locks(redis: Redis, *, timeout: float = 60.0) -> LockFactory:
    """One Redis lock per payment number, released after ``timeout`` s if a worker dies."""

    def lock_for(number: str) -> AbstractAsyncContextManager[Any]:
        return redis.lock(f"qvickly:lock:{number}", timeout=timeout, blocking_timeout=timeout)

    return lock_for


async def main() -> None:
    """Two processors (think: two workers) sharing one Redis handle one event once."""
    from fakeredis import FakeAsyncRedis  # stands in for a real Redis server here

    redis = FakeAsyncRedis()
    handled: list[str] = []

    async def on_callback(callback: Callback) -> None:
        handled.append(callback.dedupe_key)

    secret = "demo-secret"
    body = callback_body(callback_data("1001", "paid"), secret=secret)
    workers = [
        CallbackProcessor(
            on_callback, secret=secret, store=RedisCallbackStore(redis), locks=redis_locks(redis)
        )
        for _ in range(2)
    ]
    outcomes = await asyncio.gather(*(worker.process(body) for worker in workers * 3))
    print(sorted(outcome.status_code for outcome in outcomes), handled)


if __name__ == "__main__":
    asyncio.run(main())
