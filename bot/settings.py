"""Settings, read from the environment once, in the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qianzhu" / "qianzhu.db"


@dataclass(frozen=True)
class Settings:
    db: str
    content_dir: Path | None = None
    log_level: str = "WARNING"
    key_salt: str = field(default="", repr=False)  # a secret: never printed

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        content = env.get("QIANZHU_CONTENT")
        return cls(
            db=env.get("QIANZHU_DB") or str(default_db_path()),
            content_dir=Path(content) if content else None,
            log_level=env.get("QIANZHU_LOG_LEVEL", "WARNING").upper(),
            key_salt=env.get("QIANZHU_KEY_SALT", ""),
        )
