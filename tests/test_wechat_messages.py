"""What each kind of message gets back: text, voice, events, menu clicks, unsupported types, choices, long answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from wechatpy import parse_message

from bot.channels.wechat.parse import to_message, xml_root
from bot.channels.wechat.replies import SENTENCE_ENDS
from bot.channels.wechat.texts import WechatTexts, load_texts
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.runtime import Runtime
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.wechat_kit import (
    WeChat,
    event_xml,
    full_verdicts,
    message_xml,
    next_msg_id,
    runtime,
    text_xml,
    wechat_server,
)

USER = "oUser-messages-1"


@pytest.fixture(scope="module")
def texts() -> WechatTexts:
    return load_texts()


@pytest.fixture
def wechat(clock: FixedClock) -> WeChat:
    return WeChat(clock, "safe")


async def say(client: httpx.AsyncClient, wechat: WeChat, text: str, user: str = USER) -> str:
    return (await wechat.send(client, text_xml(user, text, next_msg_id(), wechat.now())))["Content"]


async def test_voice_recognition_is_handled_as_text(
    client: httpx.AsyncClient, wechat: WeChat, run: Runtime, texts: WechatTexts
) -> None:
    voice = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
    heard = voice + "<Recognition><![CDATA[办签注要交钱吗]]></Recognition>"
    reply = await wechat.send(client, message_xml(USER, "voice", heard, next_msg_id(), wechat.now()))
    assert "不收费" in reply["Content"]
    assert run.metrics.messages.value("wechat", "faq.fee") == 1
    unheard = voice + "<Recognition><![CDATA[]]></Recognition>"
    reply = await wechat.send(client, message_xml(USER, "voice", unheard, next_msg_id(), wechat.now()))
    assert reply["Content"] == texts.voice_unrecognised
    reply = await wechat.send(client, message_xml(USER, "voice", voice, next_msg_id(), wechat.now()))
    assert reply["Content"] == texts.voice_unrecognised


@pytest.mark.parametrize(
    ("msg_type", "fields", "kind"),
    [
        ("image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>", "image"),
        ("video", "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>", "video"),
        ("location", "<Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Scale>15</Scale>", "location"),
        (
            "link",
            "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[u]]></Url>",
            "link",
        ),
        ("file", "<Title><![CDATA[a.pdf]]></Title><FileKey><![CDATA[k]]></FileKey>", "file"),
        ("hologram", "<Whatever>1</Whatever>", "other"),
    ],
)
async def test_unsupported_types_get_a_polite_reply(
    client: httpx.AsyncClient, wechat: WeChat, run: Runtime, texts: WechatTexts, msg_type: str, fields: str, kind: str
) -> None:
    reply = await wechat.send(client, message_xml(USER, msg_type, fields, next_msg_id(), wechat.now()))
    assert reply["Content"] == texts.unsupported_reply(kind)
    assert texts.kinds[kind] in reply["Content"]
    assert "qianzhu_messages_total{" not in run.metrics.render()  # nothing reached the engine


async def test_subscribe_gets_the_welcome_with_first_steps_that_work(
    client: httpx.AsyncClient, wechat: WeChat, run: Runtime, texts: WechatTexts
) -> None:
    steps = run.catalog.prompts.choices["start"]
    reply = await wechat.send(client, event_xml(USER, "subscribe", wechat.now()))
    assert reply["Content"].startswith(texts.subscribe)
    assert f"1. {steps[0]}" in reply["Content"]
    assert len(reply["Content"].encode()) <= 2048
    scanned = await wechat.send(client, event_xml("oUser-scan", "subscribe", wechat.now(), "qrscene_123"))
    assert scanned["Content"] == reply["Content"]
    answer = await wechat.send(client, text_xml(USER, "2", next_msg_id(), wechat.now()))  # 要带什么材料
    assert "身份证" in answer["Content"]


@pytest.mark.parametrize(
    ("key", "intent"),
    [
        ("EXPIRED", "flow.expired"),
        ("FAQ_MATERIALS", "faq.materials_general"),
        ("FAQ_WHERE", "faq.where_to_go"),
        ("FAQ_ONLINE", "faq.online"),
        ("FAQ_FEE", "faq.fee"),
        ("RESET", "command.reset"),
        ("HELP", "command.help"),
    ],
)
async def test_menu_clicks_map_to_intents(
    client: httpx.AsyncClient, wechat: WeChat, run: Runtime, key: str, intent: str
) -> None:
    reply = await wechat.send(client, event_xml(USER, "CLICK", wechat.now(), key))
    assert reply["Content"]
    assert run.metrics.messages.value("wechat", intent) == 1


async def test_other_events_are_acknowledged_without_a_message(
    client: httpx.AsyncClient, wechat: WeChat, texts: WechatTexts
) -> None:
    assert await wechat.send(client, event_xml(USER, "VIEW", wechat.now(), "https://example.org/")) == {}
    assert await wechat.send(client, event_xml(USER, "unsubscribe", wechat.now())) == {}
    stale_menu = await wechat.send(client, event_xml(USER, "CLICK", wechat.now(), "REMOVED_LAST_YEAR"))
    assert stale_menu["Content"] == texts.unknown_click


async def test_choices_are_numbered_and_a_number_picks_one(
    client: httpx.AsyncClient, wechat: WeChat, texts: WechatTexts
) -> None:
    await say(client, wechat, "签注过期了怎么办")
    asked = await say(client, wechat, "10月20日过期了")
    assert texts.choices_heading in asked
    assert "\n2. 上海" in asked
    verdict = await say(client, wechat, "２")  # full-width, as Chinese keyboards often type it
    assert verdict.startswith("⏳ 上海｜")
    assert "\n2. " not in verdict  # no choices now, so a later "2" is just text
    assert not (await say(client, wechat, "2")).startswith("⏳ 上海")


async def test_a_long_answer_is_cut_at_a_sentence_and_points_onward(
    shared_engine_parts: Engine, clock: FixedClock, wechat: WeChat, texts: WechatTexts
) -> None:
    """No reply of the shipped bot is this long (tests/test_wechat_cards.py); the whole verdict of `--full` is."""
    store = MemoryStore(clock)
    run = runtime(full_verdicts(shared_engine_parts, store, clock), store, clock)
    question = "我在上海，居住证10月20号过期了"
    full = "\n\n".join(r.text for r in await run.engine.handle(Message("terminal", "someone", question)))
    assert len(full.encode()) > 2048  # the case this test is about
    async with wechat_server(run) as client:
        reply = await say(client, wechat, question)
    assert len(reply.encode()) <= 2048
    assert reply.endswith("\n" + texts.truncated)
    kept = reply.removesuffix("\n" + texts.truncated)
    assert full.startswith(kept)
    assert kept[-1] in SENTENCE_ENDS or full[len(kept)] == "\n"  # cut at the end of a sentence or line
    assert len(kept.encode()) > 1500  # and most of the answer is still there


async def test_choices_live_in_the_store_not_in_the_process(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path, texts: WechatTexts
) -> None:
    """The question is answered by one server, the number by another on the same database."""
    wechat = WeChat(clock)
    replies = []
    for text in ("10月20日过期了", "2"):
        store = await SqliteStore.open(tmp_path / "q.db", clock)
        async with wechat_server(runtime(shared_engine_parts, store, clock)) as client:
            replies.append(await say(client, wechat, text, user="oUser-messages-2"))
        await store.close()
    assert texts.choices_heading in replies[0]
    assert replies[1].startswith("⏳ 上海｜")


_SAMPLES = [
    "<xml><ToUserName>gh</ToUserName><FromUserName> oU </FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>  签注 \n</Content><MsgId>7</MsgId></xml>",
    "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
    "<CreateTime>1</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId>m</MediaId><Format>amr</Format>"
    "<Recognition></Recognition><MsgId>8</MsgId></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>u</PicUrl>"
    "<MsgId>9</MsgId></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>Event</MsgType>"
    "<Event>subscribe</Event><EventKey>qrscene_42</EventKey><Ticket>t</Ticket></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
    "<Event>subscribe</Event><EventKey>scanbarcode|x</EventKey></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
    "<Event>CLICK</Event><EventKey>help</EventKey></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
    "<Event>scancode_waitmsg</Event><EventKey>k</EventKey><ScanCodeInfo><ScanType>qrcode</ScanType>"
    "<ScanResult>r</ScanResult></ScanCodeInfo></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
    "<Event>pic_sysphoto</Event><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item>"
    "<item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>device_text</MsgType>"
    '<DeviceType a="1">d</DeviceType><Mixed>x<b>y</b>z</Mixed></xml>',
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>device_event</MsgType>"
    "<Event>bind</Event></xml>",
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>shortvideo</MsgType><MsgId>3</MsgId></xml>",
    # shapes off the quick path for plain fields: a repeated field, stray text, and indentation (which stays on it)
    "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>a</Content>"
    "<Content>b</Content><MsgId>4</MsgId></xml>",
    "<xml>stray<FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>5</MsgId>"
    "tail</xml>",
    "<xml>\n  <FromUserName> oU </FromUserName>\n  <CreateTime>1</CreateTime>\n  <MsgType>text</MsgType>\n"
    "  <Content><![CDATA[ 你好 ]]></Content>\n  <MsgId>6</MsgId>\n</xml>",
]


@pytest.mark.parametrize("xml", _SAMPLES)
def test_the_single_parse_builds_what_wechatpy_builds(xml: str) -> None:
    """The tree parsed once (defused) becomes the same wechatpy message as wechatpy's own parse_message."""
    ours, theirs = to_message(xml_root(xml)), parse_message(xml)
    assert type(ours) is type(theirs)
    assert json.loads(json.dumps(ours._data)) == json.loads(json.dumps(theirs._data))
    assert (ours.source, ours.id, ours.time) == (theirs.source, theirs.id, theirs.time)
