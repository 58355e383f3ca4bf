"""Settings, read from the environment once, in the composition root."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

TELEGRAM_API = "https://api.telegram.org/bot"
WECHAT_API = "https://api.weixin.qq.com"


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qianzhu" / "qianzhu.db"


def _secret(env: Mapping[str, str], name: str) -> SecretStr | None:
    value = env.get(name, "").strip()
    return SecretStr(value) if value else None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if not math.isfinite(value) or value <= 0:  # nan would turn every comparison off (nan > x is False)
        raise ValueError(f"{name} must be a positive finite number, got {raw!r}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...], upper: bool) -> str:
    raw = env.get(name, "").strip()
    value = (raw.upper() if upper else raw.lower()) if raw else default
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return value


_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _YES or raw in _NO:
        return raw in _YES
    raise ValueError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _test_today(env: Mapping[str, str]) -> date | None:
    """QIANZHU_TODAY=YYYY-MM-DD, the test clock's date; refused unless QIANZHU_TESTING is on."""
    raw = env.get("QIANZHU_TODAY", "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if _ISO_DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"QIANZHU_TODAY must be a date in YYYY-MM-DD form, got {raw!r}")
    if not _flag(env, "QIANZHU_TESTING", False):
        raise ValueError(
            "QIANZHU_TODAY is a test clock and is refused outside testing: set QIANZHU_TESTING=1 to use it, "
            "or unset QIANZHU_TODAY"
        )
    return day


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})  # plain http is allowed only here, for tests
MIN_LINK_SECRET = 16  # bytes; bot.calendar_links refuses shorter secrets too


def _public_url(env: Mapping[str, str]) -> str | None:
    """QIANZHU_PUBLIC_URL: the base under which users reach `qianzhu serve` (https, no query or fragment)."""
    raw = env.get("QIANZHU_PUBLIC_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if (parts.scheme != "https" and not local) or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            "QIANZHU_PUBLIC_URL must be an https URL without a query, such as https://bot.example.com "
            f"(plain http only for 127.0.0.1 or localhost), got {raw!r}"
        )
    return raw.rstrip("/")


def _link_secret(env: Mapping[str, str]) -> SecretStr | None:
    secret = _secret(env, "QIANZHU_LINK_SECRET")
    if secret is not None and len(secret.get_secret_value().encode()) < MIN_LINK_SECRET:
        raise ValueError(f"QIANZHU_LINK_SECRET must be at least {MIN_LINK_SECRET} characters (a long random value)")
    return secret


@dataclass(frozen=True)
class Settings:
    """Every setting; secrets are SecretStr, so printing the settings never shows them."""

    db: str
    content_dir: Path | None = None
    log_level: str = "WARNING"
    log_format: str = "text"  # or "json": one JSON object per line, with a request id
    key_salt: SecretStr = field(default_factory=lambda: SecretStr(""))
    telegram_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API
    telegram_webhook_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_appid: str | None = None
    wechat_appsecret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_aes_key_previous: SecretStr | None = None
    wechat_api_base_url: str = WECHAT_API
    wechat_reply_timeout: float = 4.0
    wechat_timestamp_window: float = 300.0
    wechat_allow_plaintext: bool = False  # with an AES key: also accept plaintext posts (compatible-mode migration)
    metrics_token: SecretStr | None = None  # when set, /metrics wants `Authorization: Bearer <token>`
    shutdown_grace: float = 10.0  # seconds to finish in-flight requests after SIGTERM/SIGINT
    poll_lease: float = 30.0  # QIANZHU_POLL_LEASE: seconds a `qianzhu telegram` poller holds the bot without renewing
    record_unmatched: bool = True  # count turns and keep unanswered questions, masked, for 90 days (`qianzhu stats`)
    testing: bool = False  # QIANZHU_TESTING: allows the test clock
    today: date | None = None  # QIANZHU_TODAY: the test clock's first date (Asia/Shanghai); needs `testing`
    public_url: str | None = None  # QIANZHU_PUBLIC_URL: where users reach `qianzhu serve` (calendar links)
    link_secret: SecretStr | None = None  # QIANZHU_LINK_SECRET: signs calendar links; unset, there are none

    @property
    def links_on(self) -> bool:
        """Calendar links are made and served: both the public URL and the link secret are set."""
        return self.public_url is not None and self.link_secret is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        content = env.get("QIANZHU_CONTENT")
        return cls(
            db=env.get("QIANZHU_DB") or str(default_db_path()),
            content_dir=Path(content) if content else None,
            log_level=_choice(env, "QIANZHU_LOG_LEVEL", "WARNING", LOG_LEVELS, upper=True),
            log_format=_choice(env, "QIANZHU_LOG_FORMAT", "text", LOG_FORMATS, upper=False),
            key_salt=_secret(env, "QIANZHU_KEY_SALT") or SecretStr(""),
            telegram_token=_secret(env, "TELEGRAM_BOT_TOKEN"),
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or TELEGRAM_API,
            telegram_webhook_secret=_secret(env, "TELEGRAM_WEBHOOK_SECRET"),
            wechat_token=_secret(env, "WECHAT_TOKEN"),
            wechat_appid=env.get("WECHAT_APPID") or None,
            wechat_appsecret=_secret(env, "WECHAT_APPSECRET"),
            wechat_aes_key=_secret(env, "WECHAT_AES_KEY"),
            wechat_aes_key_previous=_secret(env, "WECHAT_AES_KEY_PREVIOUS"),
            wechat_api_base_url=(env.get("WECHAT_API_BASE_URL") or WECHAT_API).rstrip("/"),
            wechat_reply_timeout=_number(env, "WECHAT_REPLY_TIMEOUT", 4.0),
            wechat_timestamp_window=_number(env, "WECHAT_TIMESTAMP_WINDOW", 300.0),
            wechat_allow_plaintext=_flag(env, "WECHAT_ALLOW_PLAINTEXT", False),
            metrics_token=_secret(env, "QIANZHU_METRICS_TOKEN"),
            shutdown_grace=_number(env, "QIANZHU_SHUTDOWN_GRACE", 10.0),
            poll_lease=_number(env, "QIANZHU_POLL_LEASE", 30.0),
            record_unmatched=_flag(env, "QIANZHU_RECORD_UNMATCHED", True),
            testing=_flag(env, "QIANZHU_TESTING", False),
            today=_test_today(env),
            public_url=_public_url(env),
            link_secret=_link_secret(env),
        )
