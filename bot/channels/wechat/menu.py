"""The custom menu from content/menu.yaml, checked against WeChat's limits before it is sent."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.catalog.loader import default_content_dir, read_model
from bot.channels.wechat.texts import WechatTexts
from bot.core.errors import ContentError

FILE = "menu.yaml"
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 40  # the older, stricter documented limits (newer docs allow 60 for subs)
# What a phone shows: 「一级菜单最多4个汉字，二级菜单最多8个汉字，多出来的部分将会以“...”代替」. In half-width
# columns (a 汉字 or full-width sign takes two), since the byte limits alone let 「过期怎么办」 through to be cut.
TOP_NAME_COLUMNS, SUB_NAME_COLUMNS = 8, 16
KEY_BYTES, URL_BYTES = 128, 1024

ButtonType = Literal[
    "click",
    "view",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "article_id",
    "article_view_limited",
    "miniprogram",
]
KEY_TYPES = frozenset(
    {"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin"}
    | {"location_select"}
)


def _bytes(text: str) -> int:
    return len(text.encode())


def columns(text: str) -> int:
    """How wide WeChat draws `text` in a menu: two columns for a wide or full-width character, one otherwise."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _name_within(name: str, limit: int, shown: int) -> str:
    if _bytes(name) > limit:
        raise ValueError(f"{name!r} is {_bytes(name)} bytes; WeChat allows {limit}")
    if columns(name) > shown:
        raise ValueError(
            f"{name!r} is {columns(name)} columns wide; WeChat shows {shown} ({shown // 2} 汉字) and cuts the rest"
        )
    return name


class Action(BaseModel):
    """A button that does something: its type and what that type needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: ButtonType | None = None
    key: str | None = None
    url: str | None = None
    media_id: str | None = None
    article_id: str | None = None
    appid: str | None = None
    pagepath: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Action:
        if getattr(self, "sub_button", ()):
            if self.type is not None or self.key or self.url:
                raise ValueError("a button with sub_button takes no type, key or url")
            return self
        if self.type is None:
            raise ValueError("needs a type, or sub_button")
        if self.type in KEY_TYPES and not (self.key and _bytes(self.key) <= KEY_BYTES):
            raise ValueError(f"type {self.type} needs a key of 1 to {KEY_BYTES} bytes")
        linked = self.url and self.url.startswith(("https://", "http://")) and _bytes(self.url) <= URL_BYTES
        if self.type in ("view", "miniprogram") and not linked:
            raise ValueError(f"type {self.type} needs an http(s) url of at most {URL_BYTES} bytes")
        if self.type == "miniprogram" and not (self.appid and self.pagepath):
            raise ValueError("type miniprogram needs appid and pagepath")
        if self.type == "media_id" and not self.media_id:
            raise ValueError("type media_id needs media_id")
        if self.type in ("article_id", "article_view_limited") and not self.article_id:
            raise ValueError(f"type {self.type} needs article_id")
        return self


class SubButton(Action):
    @field_validator("name")
    @classmethod
    def _short(cls, name: str) -> str:
        return _name_within(name, SUB_NAME_BYTES, SUB_NAME_COLUMNS)


class TopButton(Action):
    """An action, or a group of at most five sub-buttons (menus have two levels)."""

    sub_button: tuple[SubButton, ...] = Field(default=(), max_length=MAX_SUB)

    @field_validator("name")
    @classmethod
    def _short(cls, name: str) -> str:
        return _name_within(name, TOP_NAME_BYTES, TOP_NAME_COLUMNS)


class Menu(BaseModel):
    """At most 3 top buttons of at most 5 sub-buttons each, as `menu/create` takes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    button: tuple[TopButton, ...] = Field(min_length=1, max_length=MAX_TOP)

    @model_validator(mode="after")
    def _unique_keys(self) -> Menu:
        keys = self.click_keys()
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"keys used twice: {repeated}")
        return self

    def buttons(self) -> list[Action]:
        """Every action button, top-level and sub."""
        return [b for top in self.button for b in (top.sub_button or (top,))]

    def click_keys(self) -> list[str]:
        return [b.key for b in self.buttons() if b.type == "click" and b.key]

    def payload(self) -> dict[str, Any]:
        """The JSON body of `menu/create`."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def load_menu(directory: Path | None = None) -> Menu:
    """Reads content/menu.yaml; a ContentError names the file and the field."""
    return read_model(directory or default_content_dir(), FILE, Menu)


def check_clicks(menu: Menu, texts: WechatTexts, where: Path) -> None:
    """Every click key in the menu must say what the bot answers (wechat.yaml `clicks`)."""
    missing = [key for key in menu.click_keys() if key not in texts.clicks]
    if missing:
        raise ContentError(f"{where / FILE}: click keys {missing} have no entry under clicks in wechat.yaml")
