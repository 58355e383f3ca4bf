"""Who may post to /wechat, over real HTTP on 127.0.0.1: safe mode refuses plaintext, encrypt_type is exact, one
signed (timestamp, nonce) carries one message in every process, and odd shapes (two <Encrypt>, a field twice,
deep nesting, another encoding) get 400, never 500."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.wechat.parse import MAX_DEPTH
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.wechat_kit import (
    AES_KEY,
    APPID,
    TOKEN,
    Mode,
    WeChat,
    metric,
    next_msg_id,
    runtime,
    settings,
    text_xml,
    wechat_server,
)

USER = "oUser-auth-1"
FEE = 'qianzhu_messages_total{channel="wechat",intent="faq.fee"}'


def ask(wechat: WeChat, text: str = "办签注要交钱吗", user: str = USER) -> str:
    return text_xml(user, text, next_msg_id(), wechat.now())


def engine_runs(run: Runtime) -> float:
    return sum(value for name, value in _series(run) if name.startswith("qianzhu_messages_total{"))


def _series(run: Runtime) -> list[tuple[str, float]]:
    lines = run.metrics.render().splitlines()
    return [(line.rsplit(" ", 1)[0], float(line.rsplit(" ", 1)[1])) for line in lines if not line.startswith("#")]


@pytest.fixture
async def safe_run(shared_engine_parts: Engine, clock: FixedClock) -> AsyncIterator[Runtime]:
    """An account in safe mode: an EncodingAESKey and WECHAT_ALLOW_PLAINTEXT off (the default)."""
    store = MemoryStore(clock)
    yield runtime(shared_engine_parts, store, clock, settings(wechat_allow_plaintext=False))
    await store.close()


@pytest.fixture
async def safe(safe_run: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with wechat_server(safe_run) as opened:
        yield opened


async def test_safe_mode_refuses_plaintext_on_a_signed_url(
    safe: httpx.AsyncClient, safe_run: Runtime, clock: FixedClock
) -> None:
    """The URL signature does not cover the body: with an AES key, plaintext would let a logged URL post as
    anyone and read their state in the reply."""
    plain = WeChat(clock)
    params, body = plain.post(ask(plain))
    for extra in ({}, {"encrypt_type": "raw"}):
        response = await safe.post("/wechat", params=params | extra, content=body)
        assert response.status_code == 403
        assert "不收费" not in response.text
    for mode in ("safe", "compatible"):
        wechat = WeChat(clock, mode)
        reply = await wechat.send(safe, ask(wechat))
        assert "不收费" in reply["Content"]
    assert metric(safe_run.metrics.render(), FEE) == 2  # only the encrypted two reached the engine


async def test_allow_plaintext_accepts_plaintext_and_warns_once(
    shared_engine_parts: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY, "QIANZHU_DB": "memory:"}
    for allow, warnings in (("1", 1), ("0", 0)):
        store = MemoryStore(clock)
        run = runtime(shared_engine_parts, store, clock, Settings.from_env(env | {"WECHAT_ALLOW_PLAINTEXT": allow}))
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            async with wechat_server(run) as client:
                plain = WeChat(clock)
                params, body = plain.post(ask(plain))
                response = await client.post("/wechat", params=params, content=body)
                assert response.status_code == (200 if allow == "1" else 403)
                reply = await WeChat(clock, "safe").send(client, ask(plain))
                assert "不收费" in reply["Content"]
        told = [r for r in caplog.records if "WECHAT_ALLOW_PLAINTEXT is on" in r.getMessage()]
        assert len(told) == warnings
        assert all("does not cover a plaintext body" in r.getMessage() for r in told)
        await store.close()


@pytest.mark.parametrize("value", ["AES", "Aes", " aes", "aes ", "aes\x00", "", "rsa"])
async def test_encrypt_type_compares_exactly(
    client: httpx.AsyncClient, safe: httpx.AsyncClient, run: Runtime, clock: FixedClock, value: str
) -> None:
    """Whatever the server accepts, only exactly "aes" opens the envelope; nothing else is read as plaintext."""
    for server in (safe, client):
        for mode in ("safe", "compatible"):
            wechat = WeChat(clock, mode)
            params, body = wechat.post(ask(wechat))
            response = await server.post("/wechat", params=params | {"encrypt_type": value}, content=body)
            assert response.status_code in (400, 403), (value, mode)
    assert engine_runs(run) == 0


@pytest.mark.parametrize("mode", ["safe", "compatible"])
async def test_two_encrypt_elements_get_400(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock, mode: Mode
) -> None:
    wechat = WeChat(clock, mode)
    params, body = wechat.post(ask(wechat))
    signed = body[body.index(b"<Encrypt>") : body.index(b"</Encrypt>") + len(b"</Encrypt>")]
    _, other = wechat.post(ask(wechat, "我在上海"))
    second = other[other.index(b"<Encrypt>") : other.index(b"</Encrypt>") + len(b"</Encrypt>")]
    for doubled in (body.replace(signed, signed + second), body.replace(signed, second + signed)):
        assert (await client.post("/wechat", params=params, content=doubled)).status_code == 400
    assert (await client.post("/wechat", params=params, content=body)).status_code == 200  # the control
    assert engine_runs(run) == 1


@pytest.mark.parametrize("field", ["FromUserName", "ToUserName", "Content", "MsgType", "MsgId", "CreateTime"])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_a_field_twice_gets_400(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock, field: str, mode: Mode
) -> None:
    """Which of two FromUserName is the sender? Neither: the message is refused, in plaintext and inside the
    ciphertext alike."""
    wechat = WeChat(clock, mode)
    xml = ask(wechat).replace("</xml>", f"<{field}>oOther</{field}></xml>")
    params, body = wechat.post(xml)
    assert (await client.post("/wechat", params=params, content=body)).status_code == 400
    assert engine_runs(run) == 0


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("MsgId", "1" * 20, 200),
        ("MsgId", "1" * 21, 400),
        ("MsgId", "1" * 5000, 400),
        ("MsgId", "٣٣٣", 400),
        ("CreateTime", "1" * 13, 400),
        ("CreateTime", "¹²³", 400),
    ],
)
async def test_ids_and_times_are_short_plain_numbers(
    client: httpx.AsyncClient, clock: FixedClock, field: str, value: str, status: int
) -> None:
    """The once-only key is built from them: a 5,000-digit MsgId would have made a 5 KB key."""
    wechat = WeChat(clock)
    xml = ask(wechat)
    start, end = xml.index(f"<{field}>") + len(field) + 2, xml.index(f"</{field}>")
    params, body = wechat.post(xml[:start] + value + xml[end:])
    assert (await client.post("/wechat", params=params, content=body)).status_code == status


def nested(depth: int) -> str:
    """A text message whose Content holds elements `depth` levels deep in all (<xml> is level 1)."""
    inner = depth - 2
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{USER}</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>text</MsgType><Content>{'<a>' * inner}x{'</a>' * inner}</Content><MsgId>1</MsgId></xml>"
    )


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 3_000, 20_000])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_deep_nesting_gets_400(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock, depth: int, mode: Mode
) -> None:
    """About 1,000 levels used to end in RecursionError and a 500 with a traceback."""
    params, body = WeChat(clock, mode).post(nested(depth))
    response = await client.post("/wechat", params=params, content=body)
    assert response.status_code == (413 if len(body) > 64 * 1024 else 400)
    assert run.metrics.errors.value("wechat", "internal") == 0


async def test_the_deepest_event_wechat_sends_is_read(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """<xml><SendPicsInfo><PicList><item><PicMd5Sum>: five levels, within the limit."""
    wechat = WeChat(clock, "safe")
    xml = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{USER}</FromUserName><CreateTime>{wechat.now()}</CreateTime>"
        "<MsgType>event</MsgType><Event>pic_sysphoto</Event><EventKey>k</EventKey><SendPicsInfo><Count>1</Count>"
        "<PicList><item><PicMd5Sum>a</PicMd5Sum></item></PicList></SendPicsInfo></xml>"
    )
    assert await wechat.send(client, xml) == {}  # an event we ignore: "success"


DECLARED = ["gbk", "GB2312", "gb18030", "big5", "utf-16", "UTF-16LE", "utf-7", "latin-1", "us-ascii", "rot13"]
DECLARED += ["idna", "punycode", "base64", "x-no-such-encoding", ""]


@pytest.mark.parametrize("encoding", DECLARED)
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_an_encoding_other_than_utf8_gets_400(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock, encoding: str, mode: Mode
) -> None:
    """expat hands the declared name to Python's codecs: gbk raised ValueError, rot13 LookupError, idna
    UnicodeError, each a 500; latin-1 would have turned the Chinese text into something else."""
    wechat = WeChat(clock, mode)
    params, body = wechat.post(f'<?xml version="1.0" encoding="{encoding}"?>' + ask(wechat))
    assert (await client.post("/wechat", params=params, content=body)).status_code == 400
    assert engine_runs(run) == 0


async def test_utf8_declared_or_not_is_read_and_other_bytes_are_not(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    wechat = WeChat(clock)
    declarations = ('<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8'?>", "")
    for declaration in declarations:
        params, body = wechat.post(declaration + ask(wechat))
        assert "不收费" in wechat.read(await client.post("/wechat", params=params, content=body), params)["Content"]
    for encoded in (ask(wechat).encode("utf-16"), ask(wechat).encode("gbk"), b"\xef\xbb\xbf" + ask(wechat).encode()):
        params, _ = wechat.post("")
        response = await client.post("/wechat", params=params, content=encoded)
        assert response.status_code == (200 if encoded.startswith(b"\xef\xbb\xbf") else 400)


async def test_a_seen_nonce_with_another_body_is_refused_and_a_retry_answered(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock
) -> None:
    """One signed URL, replayed with someone else's message, used to be accepted 30 times of 30."""
    wechat = WeChat(clock)
    params, body = wechat.post(ask(wechat, "我在上海，签注10月20号过期了", user="oVictim"))
    first = wechat.read(await client.post("/wechat", params=params, content=body), params)
    forged = ask(wechat, "还剩几天", user="oVictim").encode()
    response = await client.post("/wechat", params=params, content=forged)
    assert response.status_code == 403
    assert "上海" not in response.text
    again = wechat.read(await client.post("/wechat", params=params, content=body), params)
    assert again["Content"] == first["Content"]
    assert run.metrics.replays.value("wechat", "refused") == 1
    assert run.metrics.replays.value("wechat", "retry") == 1
    assert engine_runs(run) == 1


async def test_a_retry_sealed_again_is_still_a_retry(
    client: httpx.AsyncClient, run: Runtime, clock: FixedClock
) -> None:
    """In safe mode the same message under the same (timestamp, nonce) may come with a fresh IV: the message
    inside decides, not the bytes of the ciphertext."""
    wechat = WeChat(clock, "safe")
    xml, stamp = ask(wechat), wechat.now()
    params, body = wechat.post(xml, timestamp=stamp, nonce="resealed-1")
    first = wechat.read(await client.post("/wechat", params=params, content=body), params)
    params, body = wechat.post(xml, timestamp=stamp, nonce="resealed-1")
    assert wechat.read(await client.post("/wechat", params=params, content=body), params) == first
    params, body = wechat.post(ask(wechat, "我在上海"), timestamp=stamp, nonce="resealed-1")
    assert (await client.post("/wechat", params=params, content=body)).status_code == 403
    assert run.metrics.replays.value("wechat", "retry") == 1


async def test_a_forged_request_does_not_use_up_a_nonce(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """The pair is remembered only after the signature holds: an unsigned request cannot block WeChat's."""
    wechat = WeChat(clock)
    params, body = wechat.post(ask(wechat))
    junk = ask(wechat, "我在上海").encode()
    assert (await client.post("/wechat", params=params | {"signature": "0" * 40}, content=junk)).status_code == 403
    assert "不收费" in wechat.read(await client.post("/wechat", params=params, content=body), params)["Content"]


async def test_the_nonce_memory_holds_across_two_stores_on_one_file(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Two `qianzhu serve` processes on one SQLite file: a URL used at one is refused with another body at the
    other, and the same body there gets the first one's answer."""
    path = tmp_path / "shared.db"
    first_store = await SqliteStore.open(path, clock)
    second_store = await SqliteStore.open(path, clock)
    first, second = (runtime(shared_engine_parts, s, clock) for s in (first_store, second_store))
    try:
        async with wechat_server(first) as a, wechat_server(second) as b:
            wechat = WeChat(clock)
            params, body = wechat.post(ask(wechat, "办签注要交钱吗", user="oTwo"))
            answer = wechat.read(await a.post("/wechat", params=params, content=body), params)
            forged = ask(wechat, "我在上海", user="oTwo").encode()
            assert (await b.post("/wechat", params=params, content=forged)).status_code == 403
            assert wechat.read(await b.post("/wechat", params=params, content=body), params) == answer
    finally:
        await first_store.close()
        await second_store.close()
    assert second.metrics.replays.value("wechat", "refused") == 1
    assert second.metrics.replays.value("wechat", "retry") == 1
    assert engine_runs(first) + engine_runs(second) == 1


async def test_a_failing_nonce_memory_lets_the_request_through(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Availability first: with the store unable to write, the request is still answered (the engine's own
    apology, here), counted as a store error, and never refused as a replay."""
    path = tmp_path / "locked.db"
    store = await SqliteStore.open(path, clock, busy_timeout=0.2)
    run = runtime(shared_engine_parts, store, clock)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        async with wechat_server(run) as client:
            wechat = WeChat(clock)
            params, body = wechat.post(ask(wechat))
            blocker.execute("BEGIN EXCLUSIVE")
            response = await client.post("/wechat", params=params, content=body)
            blocker.execute("ROLLBACK")
    finally:
        blocker.close()
        await store.close()
    assert response.status_code == 200
    assert run.metrics.store_errors.value("nonce") == 1
    assert run.metrics.replays.value("wechat", "refused") == 0
