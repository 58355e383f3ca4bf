"""Homophone matching: typos from pinyin keyboards find their keyword; real words and small talk do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog.catalog import Catalog
from bot.core.matching import make_matcher
from intents.matcher import IntentMatcher
from intents.normalize import normalize
from intents.pinyin import DATA, Homophones, readings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def matcher(catalog: Catalog) -> IntentMatcher:
    return make_matcher(catalog.intents, catalog.faq)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("签著过期了怎么办", "flow.expired"),
        ("千注要钱吗", "faq.fee"),
        ("签注多酒能办好", "faq.processing_time"),
        ("居住证过期了会被住销吗", "faq.cancellation"),
        ("签注过期了还能补班吗", "faq.late_endorse"),
    ],
)
def test_a_typo_finds_its_question(matcher: IntentMatcher, text: str, intent: str) -> None:
    found = matcher.match(normalize(text))
    assert found is not None
    assert found.intent == intent


@pytest.mark.parametrize("text", ["周末去哪玩", "附近有什么好吃的", "你喜欢什么颜色", "晚上吃什么", "我的钱包丢了"])
def test_small_talk_stays_unmatched(matcher: IntentMatcher, text: str) -> None:
    assert matcher.match(normalize(text)) is None


def test_one_reading_per_character_and_a_shared_character_required() -> None:
    homophones = Homophones({"居住证": "居住证", "签注": "签注", "摇号": "摇号"})
    assert homophones.find("居注证") == {"居住证"}
    assert homophones.find("签著") == {"签注"}
    assert homophones.find("么好") == set()  # 么 is read me, and no character is shared with 摇号
    assert homophones.find("签注", known={"签注"}) == set()
    assert homophones.find("居注证", is_word=lambda word: word == "居注证") == set()


def test_table_covers_the_common_characters() -> None:
    table = readings()
    assert len(table) > 20_000
    assert (table["证"], table["正"], table["注"], table["著"]) == ("zheng", "zheng", "zhu", "zhu")


def test_data_file_is_what_the_generator_writes() -> None:
    pytest.importorskip("pypinyin", reason="pypinyin is a dev dependency: pip install -e '.[dev]'")
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_pinyin.py")], capture_output=True, text=True, check=True
    ).stdout
    assert generated == DATA.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["居住证明年到期", "我的居住证明天到期", "居住证明早过期"])
def test_a_keyword_gives_back_the_first_character_of_a_time_word(matcher: IntentMatcher, text: str) -> None:
    tokens = matcher._tokenizer.tokens(normalize(text))
    assert "居住证" in tokens
    assert "居住证明" not in tokens


def test_a_real_compound_stays_whole(matcher: IntentMatcher) -> None:
    assert "住址证明" in matcher._tokenizer.tokens(normalize("住址证明要什么"))
