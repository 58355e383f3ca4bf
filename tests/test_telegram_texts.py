"""content/telegram.yaml: the shipped file loads, and mistakes name the file and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.channels.telegram.texts import TelegramTexts, load_texts
from bot.core.errors import ContentError

CONTENT = Path(__file__).resolve().parent.parent / "content"
ALLOWED_TAGS = re.compile(r"</?(b|i|u|s|code|pre)>")


def copy_with(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    path = target / "telegram.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def all_texts(texts: TelegramTexts) -> list[str]:
    found: list[str] = []
    for section in (texts.commands, texts.help, texts.reminders):
        found += [value for value in section.model_dump().values() if isinstance(value, str)]
    return [*found, texts.forget_done, texts.unsupported, texts.button_expired]


def test_shipped_texts_load() -> None:
    texts = load_texts()
    assert texts.reminders.week_before.format(deadline="D", case="C", label="L")
    assert "off" in texts.reminders.cancel_words


def test_chat_texts_are_valid_telegram_html() -> None:
    for text in all_texts(load_texts()):
        bare = ALLOWED_TAGS.sub("", text)
        assert "<" not in bare, text
        assert ">" not in bare, text
        assert re.sub(r"&(lt|gt|amp|quot);", "", bare).count("&") == 0, text


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    broken = copy_with(tmp_path, "reminders:\n", "reminders:\n  colour: 红色\n")
    with pytest.raises(ContentError, match=r"telegram\.yaml: field reminders\.colour: Extra inputs"):
        load_texts(broken)


def test_an_unknown_placeholder_is_named(tmp_path: Path) -> None:
    broken = copy_with(tmp_path, "离办理截止日期{deadline}", "离办理截止日期{deadline}{city}")
    with pytest.raises(ContentError, match=r"telegram\.yaml.*reminders\.week_before: unknown placeholder.*city"):
        load_texts(broken)


def test_a_command_description_over_telegrams_limit_is_refused(tmp_path: Path) -> None:
    broken = copy_with(tmp_path, "  start: 开始：看看我能帮您做什么", "  start: " + "长" * 257)
    with pytest.raises(ContentError, match=r"field commands\.start"):
        load_texts(broken)
