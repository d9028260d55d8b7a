"""The Redis cache, degrading instead of failing while Redis is unreachable.

The cache holds only what can be lost: the API's throttle counters. A Redis outage must not turn
filing a claim or logging in into a 500, so while Redis does not answer every operation falls back
to a small cache in this process's memory (throttles keep counting, per process instead of shared),
a warning is logged once, and Redis is tried again every ``REDIS_DOWN_RETRY_SECONDS``.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _degrading(name: str) -> Callable[..., Any]:
    def operation(self: "DegradingRedisCache", *args: Any, **kwargs: Any) -> Any:
        if not self._redis_may_answer():
            return getattr(self.fallback, name)(*args, **kwargs)
        try:
            result = getattr(RedisCache, name)(self, *args, **kwargs)
        except UNREACHABLE as exc:
            self._went_down(exc)
            return getattr(self.fallback, name)(*args, **kwargs)
        self._came_back()
        return result

    operation.__name__ = name
    return operation


class DegradingRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that survives Redis being down."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.retry_seconds = float(params.get("REDIS_DOWN_RETRY_SECONDS", 5))
        shared = {
            k: v for k, v in params.items() if k in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
        }
        self.fallback = LocMemCache(
            f"redis-fallback-{id(self)}", {**shared, "OPTIONS": {"MAX_ENTRIES": 10_000}}
        )
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    def _redis_may_answer(self) -> bool:
        return self._down_since is None or time.monotonic() >= self._retry_at

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            now = time.monotonic()
            if first:
                self._down_since = now
            self._retry_at = now + self.retry_seconds
        if first:
            logger.warning(
                "Redis cache unreachable (%s): throttles count in this process's memory until it answers "
                "again (retried every %.0f s)",
                exc,
                self.retry_seconds,
            )

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
        if down_since is not None:
            logger.warning("Redis cache reachable again after %.0f s", time.monotonic() - down_since)

    add = _degrading("add")
    get = _degrading("get")
    set = _degrading("set")
    touch = _degrading("touch")
    delete = _degrading("delete")
    get_many = _degrading("get_many")
    has_key = _degrading("has_key")
    incr = _degrading("incr")
    set_many = _degrading("set_many")
    delete_many = _degrading("delete_many")
    clear = _degrading("clear")
