"""Rate limiting through the `limits` library: in memory by default (one process),
in Redis when a URL is given, so that several workers share the counters."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


def _async_redis_uri(url: str) -> str:
    # `limits` selects its async Redis storage by scheme: redis:// -> async+redis://
    return url if url.startswith("async+") else f"async+{url}"


class RateLimiter:
    """A moving-window limit shared by every caller of the same key."""

    def __init__(self, limit: str, *, redis_url: str | None = None, key_prefix: str = "app"):
        self.limit: RateLimitItem = parse(limit)
        self.storage: Storage = (
            RedisStorage(_async_redis_uri(redis_url), key_prefix=key_prefix)
            if redis_url
            else MemoryStorage()
        )
        self._strategy = MovingWindowRateLimiter(self.storage)

    async def retry_after(self, *key: str) -> int | None:
        """Seconds to wait when the limit is exhausted for `key`, else None."""
        if await self._strategy.test(self.limit, *key):
            return None
        stats = await self._strategy.get_window_stats(self.limit, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, *key: str) -> None:
        """Count one event (a failed attempt) for `key`."""
        await self._strategy.hit(self.limit, *key)

    async def reset(self, *key: str) -> None:
        """Forget the events counted for `key`."""
        await self._strategy.clear(self.limit, *key)

    async def check(self) -> bool:
        """Is the storage reachable?"""
        return await self.storage.check()
