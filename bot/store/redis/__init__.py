"""The Redis store: several processes (replicas) on one Redis, standalone, Sentinel or Cluster."""

from bot.store.redis.store import RedisStore
from bot.store.redis.urls import REDIS_SCHEMES, redact

__all__ = ["REDIS_SCHEMES", "RedisStore", "redact"]
