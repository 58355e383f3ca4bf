"""Inbound: XML without DTDs or entities, the envelope opened, then wechatpy's message types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import Element

from wechatpy.events import EVENT_TYPES, ClickEvent, SubscribeEvent, SubscribeScanEvent
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, TextMessage, UnknownMessage, VoiceMessage

from bot.channels.wechat.crypto import Keys, Undecryptable
from bot.channels.wechat.security import Guard
from bot.channels.wechat.texts import KINDS
from bot.channels.wechat.xmlread import MAX_DEPTH as MAX_DEPTH
from bot.channels.wechat.xmlread import Document, read
from bot.channels.wechat.xmlread import Malformed as Malformed
from bot.channels.wechat.xmlread import xml_root as xml_root

MAX_BODY = 64 * 1024
MAX_ID_DIGITS = 20  # MsgId is an unsigned 64-bit number
MAX_TIME_DIGITS = 12  # CreateTime, seconds since 1970, as the timestamp in the URL
Mode = Literal["plaintext", "compatible", "safe"]
Kind = Literal["text", "click", "subscribe", "unsupported", "voice_unrecognised", "ignored"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The message XML, parsed, and how the request carried it (the reply goes back the same way)."""

    xml: str
    document: Document  # the fields of the usual message, or the tree of any other shape (see xmlread.read)
    mode: Mode
    key: int | None = None  # which AES key opened it (0 current, 1 previous); None in plaintext mode

    @property
    def root(self) -> Element:
        """The tree, for a caller that walks it: the usual message is read without one, so it is parsed again."""
        return xml_root(self.xml) if isinstance(self.document, dict) else self.document


def open_envelope(body: bytes, query: Mapping[str, str], guard: Guard, keys: Keys | None) -> Envelope:
    """Plaintext as is, if the guard accepts plaintext; with encrypt_type=aes (exactly), the one <Encrypt>
    element checked against msg_signature and opened, and the XML inside parsed like a plaintext body."""
    encrypt_type = query.get("encrypt_type")
    if encrypt_type is None or encrypt_type == "raw":
        guard.check_plaintext()
        plain = read(body)  # which also checks that the body is UTF-8
        return Envelope(body.decode(), plain, "plaintext")
    if encrypt_type != "aes":  # WeChat sends exactly "aes"; "AES" or " aes" is somebody else
        raise Malformed("encrypt_type is neither aes nor raw")
    encrypted, compatible = sealed(read(body))
    if keys is None:
        raise Malformed("an encrypted message, but WECHAT_AES_KEY is not set")
    guard.check_message(query.get("msg_signature"), query.get("timestamp", ""), query.get("nonce", ""), encrypted)
    try:
        xml, index = keys.open(encrypted)
    except Undecryptable as exc:
        raise Malformed(str(exc)) from exc
    return Envelope(xml, read(xml), "compatible" if compatible else "safe", index)


def sealed(outer: Document) -> tuple[str, bool]:
    """The text of the one <Encrypt> (as sent, unstripped), and whether the envelope is in compatible mode
    (兼容模式), which repeats the plaintext fields beside <Encrypt>; only the ciphertext is trusted."""
    if isinstance(outer, dict):
        encrypted = outer.get("Encrypt")  # a field is there once at most, or the document would be a tree
        if not encrypted:
            raise Malformed("encrypt_type=aes needs exactly one <Encrypt>")
        return encrypted, "MsgType" in outer
    found = outer.findall("Encrypt")
    if len(found) != 1 or not found[0].text:
        raise Malformed("encrypt_type=aes needs exactly one <Encrypt>")
    return found[0].text, outer.find("MsgType") is not None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One delivery, translated: who sent it, what to do, and the id that repeats on WeChat's retries."""

    openid: str  # FromUserName: the follower, to whom the reply goes
    account: str  # ToUserName: the Official Account, from which the reply comes
    kind: Kind
    once_id: str
    text: str = ""  # the text, the click key, or the kind of an unsupported message


def _value(element: Element) -> Any:
    """One element as xmltodict (wechatpy's parser) gives it: stripped text or None, or a dict of children."""
    text = "".join([element.text or "", *(child.tail or "" for child in element)]).strip() or None
    if not len(element) and not element.attrib:
        return text
    item: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    for child in element:
        value = _value(child)
        if child.tag not in item:
            item[child.tag] = value
        elif isinstance(item[child.tag], list):
            item[child.tag].append(value)
        else:
            item[child.tag] = [item[child.tag], value]
    if text is not None:
        item["#text"] = text
    return item


def _flat(root: Element) -> dict[str, Any] | None:
    """`_value(root)` for the usual shape of a message (fields that are plain text, each once), made quickly;
    None for any other shape."""
    if root.attrib or (root.text or "").strip():
        return None
    data: dict[str, Any] = {}
    for child in root:
        if len(child) or child.attrib or child.tag in data or (child.tail or "").strip():
            return None
        data[child.tag] = (child.text or "").strip() or None
    return data or None


def _fields(document: Document) -> dict[str, Any]:
    """`fields_of` for either shape `read` gives; a field sent twice is refused (which of two FromUserName
    would be the sender?). The usual message's fields need only stripping, as `_flat` strips them."""
    if isinstance(document, dict):
        return {name: text.strip() or None for name, text in document.items()}
    if len({child.tag for child in document}) != len(document):
        raise Malformed("a field appears twice")
    return fields_of(document)


def fields_of(root: Element) -> dict[str, Any]:
    """The message's fields as xmltodict (wechatpy's parser) gives them."""
    data = _flat(root)
    if data is None:
        data = _value(root)
    if not isinstance(data, dict):
        raise TypeError("<xml> has no fields")
    return data


def to_message(root: Element) -> BaseMessage:
    """wechatpy's message for the already parsed (and defused) tree: `wechatpy.parse_message` without parsing
    the XML again. Its dispatch is repeated here; tests/test_wechat_messages.py checks that both agree."""
    return _message(fields_of(root))


def _message(fields: dict[str, Any]) -> BaseMessage:
    data = dict(fields)  # the dispatch below rewrites Event and EventKey as wechatpy does; the fields stay as sent
    message_type = data["MsgType"].lower()
    if message_type != "event" and not message_type.startswith("device_"):
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(data)
    event_type = data["Event"].lower() if "Event" in data else None
    if event_type is None and message_type.startswith("device_"):
        event_type = message_type
    elif message_type.startswith("device_"):
        event_type = f"device_{event_type}"
    if event_type == "subscribe" and data.get("EventKey"):
        event_key = data["EventKey"]
        if event_key.startswith(("scanbarcode|", "scanimage|")):
            event_type = data["Event"] = "subscribe_scan_product"
        elif event_key.startswith("qrscene_"):
            event_type = data["Event"] = "subscribe_scan"
            data["EventKey"] = event_key[len("qrscene_") :]
    return EVENT_TYPES.get(event_type, UnknownMessage)(data)


def _number(text: str, digits: int) -> bool:
    """Plain ASCII digits, not too many: the once-only key is built from them (int() would also take ٣)."""
    return text.isascii() and text.isdigit() and len(text) <= digits


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


_SUBSCRIBES = (SubscribeEvent, SubscribeScanEvent)  # tuples: `A | B` in isinstance builds a union on every call
_TEXTS = (TextMessage, VoiceMessage)


def translate(envelope: Envelope) -> Inbound:
    """The inbound message; an unknown type becomes "unsupported", never an exception."""
    try:
        data = _fields(envelope.document)  # already checked: no DTD, no entities, not deep
        message = _message(data)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Malformed(f"wechatpy cannot parse it: {type(exc).__name__}") from exc
    openid, account, created = _text(data, "FromUserName"), _text(data, "ToUserName"), _text(data, "CreateTime")
    msg_type = _text(data, "MsgType").lower()
    if not openid or not _number(created, MAX_TIME_DIGITS):
        raise Malformed("FromUserName is missing or CreateTime is not a plain number")
    if msg_type == "event":
        event, key = _text(data, "Event").lower(), _text(data, "EventKey")
        once_id = f"wechat:event:{created}:{event}:{key}"  # events carry no MsgId (wechatpy says 0)
        if isinstance(message, ClickEvent):
            return Inbound(openid, account, "click", once_id, key)
        if isinstance(message, _SUBSCRIBES):
            return Inbound(openid, account, "subscribe", once_id)
        return Inbound(openid, account, "ignored", once_id)
    msg_id = _text(data, "MsgId")
    if not _number(msg_id, MAX_ID_DIGITS):
        raise Malformed("MsgId is missing or not a plain number")
    once_id = f"wechat:msg:{msg_id}"
    if isinstance(message, _TEXTS):
        text = data.get("Content" if isinstance(message, TextMessage) else "Recognition")
        if text is not None and not isinstance(text, str):
            raise Malformed("Content or Recognition is not text")
        if isinstance(message, VoiceMessage) and not (text or "").strip():
            return Inbound(openid, account, "voice_unrecognised", once_id)
        return Inbound(openid, account, "text", once_id, text or "")
    return Inbound(openid, account, "unsupported", once_id, msg_type if msg_type in KINDS else "other")
