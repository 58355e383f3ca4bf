"""Redis URLs: which client each scheme gives, and the URL as it may be logged (without its password).

redis://[user:password@]host:6379/0          one Redis (rediss:// for TLS)
unix:///run/redis.sock?db=0                  one Redis on a Unix socket
redis+sentinel://[:password@]host:26379[,host2:26379]/<service>/<db>
                                             the master of a Sentinel-watched service (rediss+sentinel: TLS)
redis+cluster://[:password@]host:7000        a Redis Cluster, found from any of its nodes (rediss+cluster)
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript

from bot.core.errors import StoreError
from bot.store.redis.lane import Lane, LaneClient, LaneScript, address_of

Client = Redis | RedisCluster | LaneClient
Script = AsyncScript | LaneScript  # what a client's register_script gives
REDIS_SCHEMES = frozenset(
    {"redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"}
)
CONNECT_TIMEOUT = 1.0  # seconds: an unreachable Redis must cost a turn an apology, not WeChat's whole deadline
COMMAND_TIMEOUT = 2.0
RETRIES = 2  # redis-py's retry with jittered backoff, after a lost connection or a timeout
# One Redis: at most this many connections per process; a command beyond them waits (up to COMMAND_TIMEOUT) for
# one to be free, instead of failing as redis-py's default pool does past 100. Sentinel and Cluster pools cannot
# wait, so they may open up to MANY (per node), far below Redis's default maxclients (10,000).
POOL = 128
MANY = 1000
_PASSWORD = re.compile(r"(?<=://)([^/@]*?):([^/@]*)@")


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by ***: the only form that may be logged or shown."""
    return _PASSWORD.sub(lambda m: f"{m.group(1)}:***@", url)


def _options() -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": COMMAND_TIMEOUT,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.02, cap=0.25), RETRIES),
    }


def connect(url: str) -> Client:
    """A client for `url` (no connection is made yet); StoreError for a URL that names no Redis."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in REDIS_SCHEMES:
        raise StoreError(f"{redact(url)} is not a Redis URL")
    try:
        if scheme.endswith("+cluster"):
            plain = scheme.removesuffix("+cluster") + url[len(scheme) :]
            return RedisCluster.from_url(plain, max_connections=MANY, **_options())
        if scheme.endswith("+sentinel"):
            return _sentinel(url, scheme == "rediss+sentinel")
        pool = BlockingConnectionPool.from_url(url, max_connections=POOL, timeout=COMMAND_TIMEOUT, **_options())
        slow = Redis.from_pool(pool)
        address = address_of(url)
        if address is None:  # TLS: redis-py for everything
            return slow
        return LaneClient(slow, Lane(address, CONNECT_TIMEOUT, COMMAND_TIMEOUT))  # the hot commands pipelined
    except ValueError as exc:
        raise StoreError(f"the Redis URL {redact(url)} is not valid: {exc}") from exc


def _sentinel(url: str, tls: bool) -> Redis:
    """redis+sentinel://[user:password@]host:port[,host:port...]/<service>[/<db>]: the password is the
    master's (and the sentinels', when they ask for one)."""
    parts = urlsplit(url)
    at = parts.netloc.rfind("@")
    credentials, hosts = (parts.netloc[:at], parts.netloc[at + 1 :]) if at >= 0 else ("", parts.netloc)
    user, _, password = credentials.partition(":")
    nodes = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        nodes.append((name or port, int(port) if name else 26379))
    path = [piece for piece in parts.path.split("/") if piece]
    if not path or not nodes:
        raise ValueError("it needs at least one host:port and a service name: redis+sentinel://host:26379/mymaster/0")
    service, db = unquote(path[0]), int(path[1]) if len(path) > 1 else 0
    auth: dict[str, Any] = {}
    if user:
        auth["username"] = unquote(user)
    if password:
        auth["password"] = unquote(password)
    options = _options()
    timeouts = {name: value for name, value in options.items() if name.startswith("socket_")}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        nodes, sentinel_kwargs={**timeouts, **auth}, **options
    )
    master: Redis = sentinel.master_for(service, db=db, ssl=tls, max_connections=MANY, **auth)
    return master
