"""GET /wechat answers WeChat's URL verification; POST /wechat receives messages and replies in their mode."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import secrets
from collections.abc import Iterator
from datetime import timedelta

from bot.asgi import TEXT, XML, BadBody, BodyTooLarge, Receive, Scope, Send, query, read_body, respond
from bot.channels.wechat import CHANNEL
from bot.channels.wechat.answers import Answers
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.budget import Budget
from bot.channels.wechat.crypto import BadAesKey, Keys
from bot.channels.wechat.deferred import Deferred
from bot.channels.wechat.delivery import LateDelivery, Outgoing
from bot.channels.wechat.once import OnceGate
from bot.channels.wechat.parse import MAX_BODY, Envelope, Inbound, Malformed, open_envelope, translate
from bot.channels.wechat.replies import passive_xml
from bot.channels.wechat.security import Forbidden, Guard
from bot.channels.wechat.texts import load_texts
from bot.core.errors import ContentError
from bot.metrics import Metrics
from bot.runtime import EXIT_CONFIG, EXIT_CONTENT, Runtime, StartupFailed
from bot.server import Mounted, calendar_links_for
from bot.settings import Settings
from bot.store.extras import OnceStore

log = logging.getLogger(__name__)
PATH = "/wechat"
Answer = tuple[int, bytes, bytes]  # status, body, content type


def _suffixes() -> Iterator[str]:
    """Tells this process's requests apart from each other and from other processes' (the suffix of a remembered
    nonce): a counter after a random prefix, drawn again in a forked child, instead of a read of the system's
    random source on every message."""
    prefix = secrets.token_hex(6)
    return (f"{prefix}.{n}" for n in itertools.count())


_SUFFIXES = _suffixes()


def _new_suffixes() -> None:
    global _SUFFIXES  # a child must not repeat its parent's suffixes
    _SUFFIXES = _suffixes()


os.register_at_fork(after_in_child=_new_suffixes)
NONCE_MARGIN = 60.0  # seconds a (timestamp, nonce) is kept beyond its window: clocks of two processes differ


class WechatEndpoint:
    """Verifies and translates each request, hands it to the gate, and wraps the answer for WeChat.

    It is a raw ASGI app for the path /wechat (see `bot.server.App`): GET and HEAD are the URL verification,
    POST a message; anything else gets 405. Every answer is computed before the first byte is sent, so an
    unexpected error still gets a plain 500 and never a traceback.
    """

    def __init__(
        self,
        guard: Guard,
        keys: Keys | None,
        answers: Answers,
        gate: OnceGate,
        late: LateDelivery,
        metrics: Metrics,
        nonces: OnceStore,
    ) -> None:
        self._guard, self._keys, self._answers = guard, keys, answers
        self._gate, self._late, self._metrics = gate, late, metrics
        self._nonces = nonces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        allow: tuple[tuple[bytes, bytes], ...] = ()
        try:
            if method in ("GET", "HEAD"):
                status, body, kind = self.verify(query(scope))
            elif method == "POST":
                status, body, kind = await self.receive(scope, receive, self._gate.budget())
            else:
                status, body, kind, allow = 405, b"405\n", TEXT, ((b"allow", b"GET, HEAD, POST"),)
        except Exception:
            log.exception("a /wechat request failed")
            self._metrics.errors.inc(CHANNEL, "internal")
            status, body, kind = 500, b"500\n", TEXT
        await respond(send, status, body, kind, allow)

    def verify(self, params: dict[str, str]) -> Answer:
        """The URL check WeChat makes when the server address is saved: echo `echostr` if the signature holds."""
        try:
            self._guard.check(params.get("signature"), params.get("timestamp"), params.get("nonce"))
        except Forbidden as exc:
            return self._reject(403, "forbidden", str(exc))
        echo = params.get("echostr")
        if not echo:
            return self._reject(400, "bad_request", "no echostr")
        return 200, echo.encode(), TEXT

    async def receive(self, scope: Scope, receive: Receive, budget: Budget) -> Answer:
        """A message, answered by the budget's deadline, which started when the request arrived."""
        params = query(scope)
        try:
            self._guard.check(params.get("signature"), params.get("timestamp"), params.get("nonce"))
            envelope = open_envelope(await read_body(scope, receive, MAX_BODY), params, self._guard, self._keys)
            inbound = translate(envelope)
            await self._fresh_nonce(params["timestamp"], params["nonce"], envelope.xml.encode(), budget)
        except Forbidden as exc:
            return self._reject(403, "forbidden", str(exc))
        except BodyTooLarge:
            return self._reject(413, "too_large", "body over 64 KB")
        except (Malformed, BadBody) as exc:
            return self._reject(400, "bad_request", str(exc))
        # MsgId and CreateTime grow over time: leading with them, new records land at the end of the store's index
        user = self._answers.key_of(inbound.openid)
        outgoing = Outgoing(self._answers, self._late, inbound, user)
        text = await self._gate.answer(f"{inbound.once_id}:{user}", outgoing.work, outgoing.late, budget)
        return self._reply(text, inbound, envelope, params.get("nonce", ""), params.get("timestamp", ""))

    async def _fresh_nonce(self, timestamp: str, nonce: str, message: bytes, budget: Budget) -> None:
        """One signed (timestamp, nonce) carries one message, in every process on the store: the same message
        again is WeChat's retry (the once-only gate answers it), another one is a replayed URL (Forbidden).

        `message` is the body in plaintext and the opened XML when encrypted, so a retry sealed again with a
        fresh IV is still a retry. If the store fails, the request goes on without the check: availability first.
        """
        digest = hashlib.sha256(message).hexdigest()[:32]
        mine = f"{digest}:{next(_SUFFIXES)}"  # the suffix tells the first request from a byte-identical retry
        ttl = timedelta(seconds=self._guard.remaining(timestamp) + NONCE_MARGIN)
        try:
            kept = await budget.within(self._nonces.remember_first(f"wechat:nonce:{timestamp}:{nonce}", mine, ttl))
        except Exception as exc:
            log.warning("the (timestamp, nonce) memory is unavailable (%s); checking without it", type(exc).__name__)
            self._metrics.store_errors.inc("nonce")
            return
        if kept == mine:
            return
        if kept.partition(":")[0] == digest:
            self._metrics.replays.inc(CHANNEL, "retry")
            return
        self._metrics.replays.inc(CHANNEL, "refused")
        raise Forbidden("a seen (timestamp, nonce) with another body")

    def _reply(self, text: str, inbound: Inbound, envelope: Envelope, nonce: str, timestamp: str) -> Answer:
        if not text:
            return 200, b"success", TEXT
        xml = passive_xml(text, inbound.openid, inbound.account)
        if envelope.mode != "plaintext" and envelope.key is not None and self._keys is not None:
            xml = self._keys.seal(xml, envelope.key, nonce, timestamp)  # with the key that opened the request
        return 200, xml.encode(), XML

    def _reject(self, status: int, kind: str, reason: str) -> Answer:
        log.warning("rejected a /wechat request with %d: %s", status, reason)  # the reason never holds ids
        self._metrics.errors.inc(CHANNEL, kind)
        return status, f"{status}\n".encode(), TEXT


def _keys(settings: Settings, token: str) -> Keys | None:
    if settings.wechat_aes_key is None:
        if settings.wechat_aes_key_previous is not None:
            raise StartupFailed(EXIT_CONFIG, "WECHAT_AES_KEY_PREVIOUS is set but WECHAT_AES_KEY is not")
        return None
    if not settings.wechat_appid:
        raise StartupFailed(EXIT_CONFIG, "WECHAT_AES_KEY is set, so WECHAT_APPID is needed to check messages")
    previous = settings.wechat_aes_key_previous
    try:
        return Keys(
            token,
            settings.wechat_appid,
            settings.wechat_aes_key.get_secret_value(),
            previous.get_secret_value() if previous is not None else None,
        )
    except BadAesKey as exc:
        raise StartupFailed(EXIT_CONFIG, f"configuration error: {exc}") from exc


def mount_wechat(runtime: Runtime) -> Mounted:
    """The WeChat channel's routes and its shutdown; stops start-up with a clear message on bad settings."""
    settings = runtime.settings
    if settings.wechat_token is None:
        raise StartupFailed(EXIT_CONFIG, "WECHAT_TOKEN is not set")
    token = settings.wechat_token.get_secret_value()
    try:
        texts = load_texts(settings.content_dir)
    except ContentError as exc:
        raise StartupFailed(EXIT_CONTENT, f"内容文件有误，无法启动 / content error: {exc}") from exc
    keys = _keys(settings, token)
    api = None
    if settings.wechat_appid and settings.wechat_appsecret is not None:
        api = WeChatApi(settings.wechat_api_base_url, settings.wechat_appid, settings.wechat_appsecret)
    else:
        log.warning(
            "WECHAT_APPID/WECHAT_APPSECRET are not set: answers later than the deadline are kept and sent with "
            "the user's next reply"
        )
    if keys is not None and settings.wechat_allow_plaintext:
        log.warning(
            "WECHAT_ALLOW_PLAINTEXT is on: plaintext posts are accepted beside encrypted ones. The URL signature "
            "does not cover a plaintext body, so anyone who sees one request URL (a proxy log) can post as any "
            "user and read the reply for WECHAT_TIMESTAMP_WINDOW seconds. Turn it off once the account is in safe mode."
        )
    plaintext = keys is None or settings.wechat_allow_plaintext
    guard = Guard(token, settings.wechat_timestamp_window, runtime.clock, plaintext)
    gate = OnceGate(runtime.store, runtime.metrics, settings.wechat_reply_timeout)
    deferred = Deferred(runtime.store, texts, runtime.metrics)
    answers = Answers(runtime.engine, runtime.store, texts, deferred, calendar_links_for(runtime))
    late = LateDelivery(api, deferred, runtime.metrics)
    endpoint = WechatEndpoint(guard, keys, answers, gate, late, runtime.metrics, runtime.store)

    async def stop() -> None:
        await gate.drain()
        if api is not None:
            await api.aclose()

    return Mounted(endpoints={PATH: endpoint}, shutdown=[stop])
