"""POST/GET /wechat over real HTTP: the three modes, verification, and every way a request is refused."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.wechat.security import sign
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.store.memory import MemoryStore
from tests.wechat_kit import (
    AES_KEY,
    OLD_AES_KEY,
    Mode,
    WeChat,
    next_msg_id,
    runtime,
    settings,
    text_xml,
    wechat_server,
)

USER = "oUser-http-1"
MODES: tuple[Mode, ...] = ("plaintext", "compatible", "safe")


def refusals(run: Runtime, kind: str) -> float:
    return run.metrics.errors.value("wechat", kind)


async def test_url_verification_echoes_echostr(client: httpx.AsyncClient, clock: FixedClock) -> None:
    params = WeChat(clock).signed() | {"echostr": "5837397465289217315"}
    response = await client.get("/wechat", params=params)
    assert (response.status_code, response.text) == (200, "5837397465289217315")
    forged = params | {"signature": "0" * 40}
    assert (await client.get("/wechat", params=forged)).status_code == 403
    assert (await client.get("/wechat", params={"echostr": "x"})).status_code == 403
    assert (await client.head("/wechat", params=params)).status_code == 200


async def test_other_methods_get_405_with_allow(client: httpx.AsyncClient, clock: FixedClock) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        response = await client.request(method, "/wechat", params=WeChat(clock).signed())
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, HEAD, POST"
    assert (await client.get("/wechat/", params=WeChat(clock).signed())).status_code == 404  # exact path only


@pytest.mark.parametrize("mode", MODES)
async def test_text_is_answered_in_the_mode_it_came_in(
    client: httpx.AsyncClient, clock: FixedClock, mode: Mode
) -> None:
    wechat = WeChat(clock, mode)
    params, body = wechat.post(text_xml(USER, "办签注要交钱吗", next_msg_id(), wechat.now()))
    response = await client.post("/wechat", params=params, content=body)
    assert ("<Encrypt>" in response.text) == (mode != "plaintext")  # WeChat expects ciphertext back in both
    reply = wechat.read(response, params)  # checks msg_signature and decrypts, as WeChat does
    assert reply["MsgType"] == "text"
    assert (reply["ToUserName"], reply["FromUserName"]) == (USER, "gh_0123456789ab")
    assert "不收费" in reply["Content"]


async def test_a_forged_signature_gets_403(client: httpx.AsyncClient, run: Runtime, clock: FixedClock) -> None:
    plain = WeChat(clock)
    params, body = plain.post(text_xml(USER, "你好", next_msg_id(), plain.now()))
    assert (await client.post("/wechat", params=params | {"signature": "f" * 40}, content=body)).status_code == 403
    intruder = WeChat(clock, token="not-the-token")
    params, body = intruder.post(text_xml(USER, "你好", next_msg_id(), plain.now()))
    assert (await client.post("/wechat", params=params, content=body)).status_code == 403
    non_ascii = params | {"signature": "签名" * 20}  # compared as bytes: a 403, not a TypeError and a 500
    assert (await client.post("/wechat", params=non_ascii, content=body)).status_code == 403
    safe = WeChat(clock, "safe")
    params, body = safe.post(text_xml(USER, "你好", next_msg_id(), plain.now()))
    assert (await client.post("/wechat", params=params | {"msg_signature": "0" * 40}, content=body)).status_code == 403
    assert refusals(run, "forbidden") == 4
    assert "qianzhu_messages_total{" not in (await client.get("/metrics")).text  # the engine never ran


async def test_a_stale_or_future_timestamp_gets_403(client: httpx.AsyncClient, clock: FixedClock) -> None:
    wechat = WeChat(clock)
    for skew in (-301, 301):
        params, body = wechat.post(text_xml(USER, "你好", next_msg_id(), wechat.now()), timestamp=wechat.now() + skew)
        response = await client.post("/wechat", params=params, content=body)
        assert response.status_code == 403
    params, body = wechat.post(text_xml(USER, "你好", next_msg_id(), wechat.now()), timestamp=wechat.now() - 299)
    assert (await client.post("/wechat", params=params, content=body)).status_code == 200


async def test_an_absurd_timestamp_gets_403_not_500(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """A 309-digit timestamp used to overflow the float comparison before the signature was checked (500)."""
    wechat = WeChat(clock)
    for timestamp in ("9" * 309, "1" * 13, "٣٣٣", "¹²³", "-5", "1e9"):
        params, body = wechat.post(text_xml(USER, "你好", next_msg_id(), wechat.now()))
        params |= {"timestamp": timestamp, "signature": sign(wechat.token, timestamp, params["nonce"])}
        response = await client.post("/wechat", params=params, content=body)
        assert response.status_code == 403, timestamp


async def test_the_timestamp_window_is_configurable(shared_engine_parts: Engine, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock, settings(wechat_timestamp_window=3600.0))
    wechat = WeChat(clock)
    async with wechat_server(run) as client:
        params, body = wechat.post(text_xml(USER, "你好", next_msg_id(), wechat.now()), timestamp=wechat.now() - 1800)
        assert (await client.post("/wechat", params=params, content=body)).status_code == 200
        params, body = wechat.post(text_xml(USER, "你好", next_msg_id(), wechat.now()), timestamp=wechat.now() - 3700)
        assert (await client.post("/wechat", params=params, content=body)).status_code == 403


MALFORMED = {
    "not xml": "hello",
    "cut short": "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName>",
    "empty": "",
    "other root": "<message><MsgType>text</MsgType></message>",
    "no MsgType": "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgId>1</MsgId></xml>",
    "no sender": "<xml><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>",
    "no MsgId": "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "MsgId not a number": (
        "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content>x</Content><MsgId>abc</MsgId></xml>"
    ),
    "nested Content": (
        "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content><b>x</b></Content><MsgId>1</MsgId></xml>"
    ),
    "not UTF-8": "<xml><FromUserName>o1</FromUserName><Content>\udcff</Content></xml>",
}


@pytest.mark.parametrize(
    ("name", "mode"),
    [(name, "plaintext") for name in MALFORMED] + [(name, "safe") for name in MALFORMED if name != "not UTF-8"],
)
async def test_malformed_xml_gets_400_not_500(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock, name: str, mode: Mode
) -> None:
    """In safe mode the same junk arrives correctly encrypted and signed: only the plaintext inside is bad."""
    wechat = WeChat(clock, mode)
    xml = MALFORMED[name]
    if mode == "plaintext":
        params, _ = wechat.post("")
        body = xml.encode("utf-8", "surrogateescape")
    else:
        params, body = wechat.post(xml)
    response = await client.post("/wechat", params=params, content=body)
    assert response.status_code == 400, (name, response.text)
    assert "Traceback" not in response.text
    assert refusals(run, "bad_request") == 1


XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
INTERNAL_ENTITY = (
    '<!DOCTYPE xml [<!ENTITY who "admin">]><xml><ToUserName>gh</ToUserName><FromUserName>&who;</FromUserName>'
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"
)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", [XXE, LAUGHS, INTERNAL_ENTITY], ids=["xxe", "billion-laughs", "any-entity"])
async def test_dtds_and_entities_are_refused(
    client: httpx.AsyncClient,
    run: Runtime,
    clock: FixedClock,
    attack: str,
    mode: Mode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Outside (plaintext, compatible) and inside the ciphertext (safe): 400 at once, nothing expanded or read."""
    wechat = WeChat(clock, mode)
    params, body = wechat.post(attack)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        response = await client.post("/wechat", params=params, content=body)
    assert response.status_code == 400
    assert time.perf_counter() - started < 1.0  # a billion laughs expanded would take far longer
    assert "DTDForbidden" in caplog.text  # defusedxml refused it, before wechatpy's parser saw anything
    assert "root:" not in response.text
    assert "lol" not in response.text
    assert "qianzhu_messages_total{" not in run.metrics.render()  # nothing reached the engine


async def test_the_same_message_without_its_dtd_is_answered(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """The control for the test above: only the DTD made those requests fail."""
    wechat = WeChat(clock)
    plain = INTERNAL_ENTITY.replace('<!DOCTYPE xml [<!ENTITY who "admin">]>', "").replace("&who;", "admin")
    params, body = wechat.post(plain.replace("<CreateTime>1<", f"<CreateTime>{wechat.now()}<"))
    reply = wechat.read(await client.post("/wechat", params=params, content=body), params)
    assert reply["ToUserName"] == "admin"


async def test_a_body_over_64_kb_gets_413(client: httpx.AsyncClient, run: Runtime, clock: FixedClock) -> None:
    wechat = WeChat(clock)
    big = text_xml(USER, "签" * 22_000, next_msg_id(), wechat.now())  # 66 KB of UTF-8
    params, body = wechat.post(big)
    assert (await client.post("/wechat", params=params, content=body)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream itself is capped
        for _ in range(100):
            yield b"<xml>" + b" " * 1019

    response = await client.post("/wechat", params=wechat.signed(), content=chunks())
    assert response.status_code == 413
    just_fits = text_xml(USER, "签" * 21_000, next_msg_id(), wechat.now())
    params, body = wechat.post(just_fits)
    assert len(body) <= 64 * 1024
    assert (await client.post("/wechat", params=params, content=body)).status_code == 200
    assert refusals(run, "too_large") == 2


async def test_an_encrypted_message_opens_with_the_previous_key_during_rotation(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    store = MemoryStore(clock)
    config = settings(wechat_aes_key_previous=SecretStr(OLD_AES_KEY))
    run = runtime(shared_engine_parts, store, clock, config)
    async with wechat_server(run) as client:
        for key in (AES_KEY, OLD_AES_KEY):  # WeChat may still use the old key for a while
            wechat = WeChat(clock, "safe", aes_key=key)
            reply = await wechat.send(client, text_xml(USER, "办签注要交钱吗", next_msg_id(), wechat.now()))
            assert "不收费" in reply["Content"]  # read with the same key: the reply was sealed with it
        stranger = WeChat(clock, "safe", aes_key="A" * 42 + "E")
        params, body = stranger.post(text_xml(USER, "你好", next_msg_id(), wechat.now()))
        assert (await client.post("/wechat", params=params, content=body)).status_code == 400


async def test_without_an_aes_key_only_plaintext_is_accepted(shared_engine_parts: Engine, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock, settings(wechat_aes_key=None, wechat_appid=None))
    async with wechat_server(run) as client:
        plain = WeChat(clock)
        reply = await plain.send(client, text_xml(USER, "办签注要交钱吗", next_msg_id(), plain.now()))
        assert "不收费" in reply["Content"]
        params, body = plain.in_mode("safe").post(text_xml(USER, "你好", next_msg_id(), plain.now()))
        assert (await client.post("/wechat", params=params, content=body)).status_code == 400
