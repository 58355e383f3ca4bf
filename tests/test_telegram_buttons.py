"""Callback data: at most 64 bytes, read back without any state, and unknown or forged data is refused."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from bot.catalog.catalog import Catalog
from bot.channels.telegram.buttons import MAX_DATA, ButtonCodec, Choice, Faq, HelpPage, RemindOff, RemindOn


@pytest.fixture(scope="module")
def codec(catalog: Catalog) -> ButtonCodec:
    return ButtonCodec(catalog)


def test_every_catalog_choice_fits_and_reads_back(catalog: Catalog, codec: ButtonCodec) -> None:
    texts = [entry.question for entry in catalog.faq]
    texts += [choice for choices in catalog.prompts.choices.values() for choice in choices]
    texts += [place.name for place in catalog.places.to_places()]
    for text in texts:
        data = codec.choice_data(text)
        assert len(data.encode()) <= MAX_DATA
        assert codec.read(data) == Choice(text)


def test_a_choice_too_long_for_64_bytes_travels_as_a_hash(catalog: Catalog) -> None:
    long_choice = "我的居住证签注已经过期很久了现在还能不能补办"  # 22 characters, 66 bytes
    prompts = catalog.prompts.model_copy(update={"choices": {**catalog.prompts.choices, "extra": [long_choice]}})
    codec = ButtonCodec(dataclasses.replace(catalog, prompts=prompts))
    data = codec.choice_data(long_choice)
    assert data.startswith("h:")
    assert len(data.encode()) <= MAX_DATA
    assert codec.read(data) == Choice(long_choice)


def test_faq_pages_and_reminders_read_back(catalog: Catalog, codec: ButtonCodec) -> None:
    faq_id = catalog.faq[0].id
    assert codec.read(codec.faq_button(faq_id, "?").callback_data) == Faq(faq_id)  # type: ignore[arg-type]
    assert codec.read(codec.page_button("下一页", 3).callback_data) == HelpPage(3)  # type: ignore[arg-type]
    data = codec.remind_button("提醒", date(2026, 12, 19), "within_grace").callback_data
    assert codec.read(data) == RemindOn(date(2026, 12, 19), "within_grace")  # type: ignore[arg-type]
    assert codec.read(codec.cancel_button("取消").callback_data) == RemindOff()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "c:",
        "h:0123456789abcdef",
        "f:no_such_question",
        "p:two",
        "r:20261319:within_grace",
        "r:20261219:on_the_moon",
        "r:2026-12-19:within_grace",
        "zzz",
    ],
)
def test_unknown_expired_or_forged_data_means_nothing(codec: ButtonCodec, data: str | None) -> None:
    assert codec.read(data) is None
