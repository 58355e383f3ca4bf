"""content/wechat.yaml and content/menu.yaml: loaded strictly, and the reply shaping built from them."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from wechatpy import parse_message
from wechatpy.replies import TextReply

from bot.catalog.loader import default_content_dir
from bot.channels.wechat.app import mount_wechat
from bot.channels.wechat.menu import Menu, check_clicks, columns, load_menu
from bot.channels.wechat.replies import fit, passive_xml, render
from bot.channels.wechat.texts import WechatTexts, load_texts
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.errors import ContentError
from bot.core.messages import Reply
from bot.store.memory import MemoryStore
from tests.wechat_kit import AES_KEY, runtime, settings


@pytest.fixture(scope="module")
def texts() -> WechatTexts:
    return load_texts()


def test_the_shipped_files_load_and_agree(texts: WechatTexts) -> None:
    menu = load_menu()
    check_clicks(menu, texts, default_content_dir())
    assert 1 <= len(menu.button) <= 3
    assert set(menu.click_keys()) <= set(texts.clicks)


def test_an_unknown_field_names_the_file_and_field(tmp_path: Path) -> None:
    shutil.copy(default_content_dir() / "wechat.yaml", tmp_path / "wechat.yaml")
    with (tmp_path / "wechat.yaml").open("a", encoding="utf-8") as extra:
        extra.write("\ngreeting: 你好\n")
    with pytest.raises(ContentError, match=r"wechat\.yaml: field greeting"):
        load_texts(tmp_path)


def test_a_bad_placeholder_is_refused(tmp_path: Path) -> None:
    text = (default_content_dir() / "wechat.yaml").read_text(encoding="utf-8")
    (tmp_path / "wechat.yaml").write_text(text.replace("收到您发来的{kind}", "收到您发来的{type}"), encoding="utf-8")
    with pytest.raises(ContentError, match="field unsupported"):
        load_texts(tmp_path)


def button(name: str = "按钮", key: str = "K", **more: Any) -> dict[str, Any]:
    return {"name": name, "type": "click", "key": key} | more


@pytest.mark.parametrize(
    ("menu", "complaint"),
    [
        ({"button": [button(key=f"K{n}") for n in range(4)]}, "at most 3"),
        ({"button": [{"name": "组", "sub_button": [button(key=f"K{n}") for n in range(6)]}]}, "at most 5"),
        ({"button": [button(name="五个汉字呀吗")]}, r"button.0.name\n.*18 bytes; WeChat allows 16"),
        ({"button": [{"name": "组", "sub_button": [button(name="十四个汉字的子菜单名字太长了吧")]}]}, "allows 40"),
        # within the bytes, but wider than a phone shows: 「过期怎么…」
        ({"button": [button(name="过期怎么办")]}, r"10 columns wide; WeChat shows 8 \(4 汉字\)"),
        (
            {"button": [{"name": "组", "sub_button": [button(name="九个汉字的子菜单名")]}]},
            "18 columns wide; WeChat shows 16",
        ),
        ({"button": [button(key="K" * 129)]}, "key of 1 to 128 bytes"),
        ({"button": [{"name": "链接", "type": "view"}]}, "http"),
        ({"button": [{"name": "链接", "type": "view", "url": "javascript:alert(1)"}]}, "http"),
        ({"button": [{"name": "链接", "type": "teleport", "key": "K"}]}, "type"),
        ({"button": [{"name": "空"}]}, "needs a type"),
        ({"button": [button(), button()]}, "used twice"),
        (
            {"button": [{"name": "组", "sub_button": [{"name": "再分", "sub_button": [button()]}]}]},
            "sub_button.0.sub_button",
        ),
        ({"button": []}, "at least 1"),
        ({"button": [button(colour="red")]}, "Extra inputs"),
    ],
)
def test_the_menu_is_checked_against_wechats_limits(menu: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Menu.model_validate(menu)


@pytest.mark.parametrize("name", ["算截止日", "FAQ help", "常见Q&A"])
def test_names_a_phone_shows_whole_are_accepted(name: str) -> None:
    assert Menu.model_validate({"button": [button(name=name)]}).button[0].name == name


def test_width_counts_wide_characters_twice() -> None:
    assert (columns("算截止日"), columns("ab"), columns("Ａ１"), columns("常见Q&A")) == (8, 2, 4, 7)


def test_the_menu_payload_is_what_menu_create_takes() -> None:
    menu = Menu.model_validate(
        {
            "button": [
                button("问", "ASK"),
                {"name": "更多", "sub_button": [{"name": "官网", "type": "view", "url": "https://example.org/"}]},
            ]
        }
    )
    assert menu.payload() == {
        "button": [
            {"name": "问", "type": "click", "key": "ASK"},
            {"name": "更多", "sub_button": [{"name": "官网", "type": "view", "url": "https://example.org/"}]},
        ]
    }


def test_a_click_key_without_an_answer_is_a_content_error(texts: WechatTexts, tmp_path: Path) -> None:
    menu = Menu.model_validate({"button": [button(key="NOT_IN_WECHAT_YAML")]})
    with pytest.raises(ContentError, match="NOT_IN_WECHAT_YAML"):
        check_clicks(menu, texts, tmp_path)


def test_short_replies_pass_unchanged_and_choices_become_numbered_lines(texts: WechatTexts) -> None:
    text = render([Reply("第一段。"), Reply("请选择：", ("已过期", "还没过期"))], texts)
    assert text == f"第一段。\n\n请选择：\n\n{texts.choices_heading}\n1. 已过期\n2. 还没过期"


def test_a_long_reply_is_cut_at_a_sentence_end_and_keeps_its_choices(texts: WechatTexts) -> None:
    sentence = "这是一句用来占位的中文句子。"
    text = render([Reply(sentence * 80, ("北京", "上海"))], texts)
    assert len(text.encode()) <= 2048
    body, _, tail = text.partition("\n" + texts.truncated)
    assert body.endswith("。")
    assert body == sentence * (len(body) // len(sentence))
    assert len(body.encode()) > 1500
    assert tail == f"\n\n{texts.choices_heading}\n1. 北京\n2. 上海"


def test_text_without_any_sentence_end_is_still_cut_within_the_limit(texts: WechatTexts) -> None:
    text = fit("签" * 3000, "", texts)
    assert len(text.encode()) <= 2048
    assert text.endswith(texts.truncated)
    assert fit("a" * 2048, "", texts) == "a" * 2048


def test_cdata_cannot_be_closed_early_by_the_text() -> None:
    root = ET.fromstring(passive_xml("a]]><Injected>1</Injected>b", "o]]><X/>1", "gh"))
    assert root.findtext("Content") == "a]]><Injected>1</Injected>b"
    assert root.findtext("ToUserName") == "o]]><X/>1"
    assert root.find("Injected") is None


@pytest.mark.parametrize(
    "text", ["你好", "第一行\n第二行 & <b>粗</b>", "签注 😀 ✅", "a]]>b", " 前后有空格 ", "x" * 2048]
)
def test_the_passive_reply_is_byte_for_byte_wechatpy_s(text: str) -> None:
    message = parse_message(
        "<xml><ToUserName>gh_0123</ToUserName><FromUserName>oUser-1</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>"
    )
    escaped = text.replace("]]>", "]]]]><![CDATA[>")
    theirs = TextReply(message=message, content=escaped, time=1795000000).render()
    assert passive_xml(text, "oUser-1", "gh_0123", created=1795000000) == theirs


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"wechat_aes_key": SecretStr("too-short")}, 4, "43-character"),
        ({"wechat_aes_key": SecretStr("!" * 43)}, 4, "not base64"),
        ({"wechat_appid": None}, 4, "WECHAT_APPID"),
        ({"wechat_aes_key": None, "wechat_aes_key_previous": SecretStr(AES_KEY)}, 4, "WECHAT_AES_KEY_PREVIOUS"),
        ({"content_dir": Path("/nonexistent/content")}, 2, "wechat.yaml"),
    ],
)
async def test_bad_settings_stop_start_up_with_a_clear_message(
    shared_engine_parts: Engine,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, Any],
    code: int,
    message: str,
) -> None:
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock, settings(**overrides))
    with pytest.raises(SystemExit) as stopped:
        mount_wechat(run)
    await store.close()
    assert stopped.value.code == code
    err = capsys.readouterr().err
    assert message in err
    assert AES_KEY not in err
