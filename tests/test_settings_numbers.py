"""Numeric settings are checked at start-up: nan, infinity, zero and negatives are refused."""

from __future__ import annotations

import pytest

from bot.settings import Settings


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "0", "-5", "ten"])
@pytest.mark.parametrize("name", ["WECHAT_TIMESTAMP_WINDOW", "WECHAT_REPLY_TIMEOUT"])
def test_a_numeric_setting_must_be_a_positive_finite_number(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_a_window_of_nan_no_longer_turns_the_timestamp_check_off() -> None:
    assert Settings.from_env({"WECHAT_TIMESTAMP_WINDOW": "120"}).wechat_timestamp_window == 120.0


@pytest.mark.parametrize(("name", "value"), [("QIANZHU_LOG_LEVEL", "TRACE"), ("QIANZHU_LOG_FORMAT", "xml")])
def test_a_log_setting_outside_its_choices_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_new_settings_have_safe_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.wechat_allow_plaintext is False
    assert settings.log_format == "text"
    assert settings.metrics_token is None
    assert settings.shutdown_grace == 10.0
