"""Builds requests the way WeChat's servers do (signed; encrypted in compatible and safe mode) and reads replies."""

from __future__ import annotations

import base64
import itertools
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.channels.wechat.app import mount_wechat
from bot.channels.wechat.security import sign
from bot.core.clock import Clock
from bot.core.dialog import Dialog
from bot.core.engine import Engine
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.server import build_app
from bot.settings import Settings
from bot.store.extras import Stores
from tests.servers import serving

TOKEN = "qianzhu-test-token"
APPID = "wx0123456789abcdef"
SECRET = "app-secret-for-tests"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OLD_AES_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
ACCOUNT = "gh_0123456789ab"
Mode = Literal["plaintext", "compatible", "safe"]
_ids = itertools.count(7_000_000_000_000_000_001)
_nonces = itertools.count(100_000)


def next_msg_id() -> int:
    return next(_ids)


def text_xml(openid: str, content: str, msg_id: int, created: int, msg_type: str = "text", extra: str = "") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>{extra}<MsgId>{msg_id}</MsgId></xml>"
    )


def message_xml(openid: str, msg_type: str, fields: str, msg_id: int, created: int) -> str:
    """Any non-text message: image, voice, video, location, link, file, ..."""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, created: int, key: str | None = None) -> str:
    event_key = "" if key is None else f"<EventKey><![CDATA[{key}]]></EventKey>"
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{event_key}</xml>"
    )


@dataclass
class WeChat:
    """Plays WeChat's servers: signs each request with the token and, in the encrypted modes, encrypts it."""

    clock: Clock
    mode: Mode = "plaintext"
    aes_key: str = AES_KEY
    token: str = TOKEN
    # One counter for every WeChat in the process, as the real one never repeats a (timestamp, nonce): the
    # server remembers each pair and refuses it with another body.
    nonces: itertools.count[int] = field(default_factory=lambda: _nonces)

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def signed(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(self.now() if timestamp is None else timestamp)
        nonce = str(next(self.nonces)) if nonce is None else nonce
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "o-in-query"}

    def post(self, xml: str, timestamp: int | None = None, nonce: str | None = None) -> tuple[dict[str, str], bytes]:
        """The query string and body of one delivery of `xml`, in this WeChat's mode (encrypted afresh, with a
        new IV, each time: the same `timestamp` and `nonce` give another body)."""
        params = self.signed(timestamp, nonce)
        if self.mode == "plaintext":
            return params, xml.encode()
        sealed = WeChatCrypto(self.token, self.aes_key, APPID).encrypt_message(
            xml, params["nonce"], params["timestamp"]
        )
        envelope = ET.fromstring(sealed)
        encrypted = envelope.findtext("Encrypt") or ""
        params |= {"encrypt_type": "aes", "msg_signature": envelope.findtext("MsgSignature") or ""}
        if self.mode == "safe":
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
        else:  # compatible: the plaintext fields, and the same message encrypted
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return params, body.encode()

    def read(self, response: httpx.Response, params: dict[str, str]) -> dict[str, str]:
        """The reply's fields, after checking and opening it as WeChat would; {} for "success"."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return {}
        root = ET.fromstring(response.text)
        if self.mode != "plaintext":
            encrypted = root.findtext("Encrypt") or ""
            assert root.findtext("MsgSignature") == sign(
                self.token, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypted
            )
            assert root.findtext("Nonce") == params["nonce"]
            root = ET.fromstring(PrpCrypto(base64.b64decode(self.aes_key + "=")).decrypt(encrypted, APPID))
        return {child.tag: child.text or "" for child in root}

    async def send(self, client: httpx.AsyncClient, xml: str) -> dict[str, str]:
        params, body = self.post(xml)
        return self.read(await client.post("/wechat", params=params, content=body), params)

    def in_mode(self, mode: Mode) -> WeChat:
        return replace(self, mode=mode)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db": "memory:",
        "wechat_token": SecretStr(TOKEN),
        "wechat_appid": APPID,
        "wechat_appsecret": SecretStr(SECRET),
        "wechat_aes_key": SecretStr(AES_KEY),
        # The usual test server takes all three modes, as during the move to safe mode; safe mode alone is
        # tested with wechat_allow_plaintext=False (tests/test_wechat_auth.py).
        "wechat_allow_plaintext": True,
    }
    return Settings(**(values | overrides))


def full_verdicts(parts: Engine, store: Stores, clock: Clock) -> Engine:
    """Engine parts whose verdicts are the whole text (as `qianzhu ask --full`): the longest replies there are,
    for the tests of what happens to a reply that does not fit."""
    dialog = Dialog(parts.catalog, parts.dialog.understanding, full=True)
    return Engine(parts.catalog, store, clock, dialog=dialog)


def runtime(parts: Engine, store: Stores, clock: Clock, config: Settings | None = None) -> Runtime:
    """A Runtime like `qianzhu serve` builds, on the shared (expensive) understanding."""
    metrics = Metrics()
    engine = parts.with_store(store, clock, observer=metrics.observe_turn)
    return Runtime(config or settings(), parts.catalog, clock, store, metrics, engine)


@asynccontextmanager
async def wechat_server(run: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """`qianzhu serve`'s app with the WeChat channel, over real HTTP on 127.0.0.1 (no access log, like serve)."""
    app = build_app(run, [mount_wechat(run)])
    async with serving(app, access_log=False) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client


def metric(text: str, line_start: str) -> float:
    """The value of the one series whose line starts with `line_start` in /metrics text; 0 if absent."""
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
