"""Safe and compatible mode: AES with the current EncodingAESKey, falling back to the previous one."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from wechatpy.crypto import PrpCrypto, WeChatCrypto

KEY_LENGTH = 43  # an EncodingAESKey: base64 of 32 bytes without the trailing "="


class BadAesKey(ValueError):
    """A configured EncodingAESKey is not 43 characters of base64 for 32 bytes."""


class Undecryptable(Exception):
    """No configured key opens the ciphertext: answered with 400."""


def _key_bytes(name: str, key: str) -> bytes:
    if len(key) != KEY_LENGTH:
        raise BadAesKey(f"{name} must be the 43-character EncodingAESKey, got {len(key)} characters")
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except binascii.Error as exc:
        raise BadAesKey(f"{name} is not base64") from exc
    if len(raw) != 32:
        raise BadAesKey(f"{name} does not decode to 32 bytes")
    return raw


@dataclass(frozen=True)
class _Key:
    prp: PrpCrypto
    sealer: WeChatCrypto


class Keys:
    """Opens ciphertext with any configured key and seals a reply with the key that opened its request."""

    def __init__(self, token: str, appid: str, current: str, previous: str | None = None) -> None:
        named = [("WECHAT_AES_KEY", current)] + ([("WECHAT_AES_KEY_PREVIOUS", previous)] if previous else [])
        self._appid = appid
        self._keys = [_Key(PrpCrypto(_key_bytes(name, key)), WeChatCrypto(token, key, appid)) for name, key in named]

    def open(self, encrypted: str) -> tuple[str, int]:
        """The plaintext XML and the index of the key that opened it (0 current, 1 previous)."""
        for index, key in enumerate(self._keys):
            try:
                plain: str = key.prp.decrypt(encrypted, self._appid)
            except Exception:  # wechatpy raises whatever the bytes trip over: base64, padding, UTF-8, app id
                continue
            return plain, index
        raise Undecryptable("no configured EncodingAESKey opens this message")

    def seal(self, xml: str, index: int, nonce: str, timestamp: str) -> str:
        """The encrypted, signed envelope WeChat expects for a reply."""
        sealed: str = self._keys[index].sealer.encrypt_message(xml, nonce, timestamp)
        return sealed
