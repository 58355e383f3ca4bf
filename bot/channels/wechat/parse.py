"""Inbound: XML without DTDs or entities, the envelope opened, then wechatpy's message types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.events import EVENT_TYPES, ClickEvent, SubscribeEvent, SubscribeScanEvent
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, TextMessage, UnknownMessage, VoiceMessage

from bot.channels.wechat.crypto import Keys, Undecryptable
from bot.channels.wechat.security import Guard
from bot.channels.wechat.texts import KINDS

MAX_BODY = 64 * 1024
# WeChat's messages are two levels deep (<xml><Content>); a few events nest further, down to
# <xml><SendPicsInfo><PicList><item><PicMd5Sum>. Anything deeper is refused before a tree walk could recurse.
MAX_DEPTH = 6
UTF8_NAMES = (b"utf-8", b"utf8")
MAX_ID_DIGITS = 20  # MsgId is an unsigned 64-bit number
MAX_TIME_DIGITS = 12  # CreateTime, seconds since 1970, as the timestamp in the URL
Mode = Literal["plaintext", "compatible", "safe"]
Kind = Literal["text", "click", "subscribe", "unsupported", "voice_unrecognised", "ignored"]


class Malformed(Exception):
    """Not a WeChat message we can read (bad XML, a DTD or entity, missing fields): answered with 400."""


def xml_root(data: bytes | str) -> Element:
    """The parsed document: UTF-8 only, no DOCTYPE or entity declaration (XXE, billion laughs), at most
    MAX_DEPTH levels. Whatever the bytes are, the result is a tree or Malformed, never another exception."""
    try:
        raw = data.encode() if isinstance(data, str) else data
        raw.decode()  # expat would read a UTF-16 byte order mark, or a declared single-byte encoding, silently
    except UnicodeError as exc:
        raise Malformed("not UTF-8") from exc
    _check_declaration(raw)
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError) as exc:
        raise Malformed(type(exc).__name__) from exc
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:  # expat's encoding handler, mostly
        raise Malformed(f"unreadable XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise Malformed("the root element is not <xml>")
    _check_depth(root)
    return root


def _check_declaration(raw: bytes) -> None:
    """Only UTF-8 may be declared: expat hands any other name to Python's codecs (gbk is "multi-byte", rot13
    not a text encoding, idna fails), and a single-byte one would turn the text into something else."""
    start = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if not start.startswith(b"<?xml"):
        return
    end = start.find(b"?>")
    declared = _ENCODING.search(start[: end if end >= 0 else 200])
    if declared is not None and declared[2].lower() not in UTF8_NAMES:
        raise Malformed("an encoding other than UTF-8 is declared")


_ENCODING = re.compile(rb"""encoding\s*=\s*(["']?)([^"'\s?>]*)""")


def _check_depth(root: Element) -> None:
    """Level by level, without recursion: a message nested thousands deep is refused, not walked."""
    level = [child for child in root if len(child)]  # the usual message stops here: every field is plain text
    depth = 2
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise Malformed(f"elements nested more than {MAX_DEPTH} deep")
        level = [grandchild for child in level for grandchild in child if len(grandchild)]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The message XML, parsed, and how the request carried it (the reply goes back the same way)."""

    xml: str
    root: Element
    mode: Mode
    key: int | None = None  # which AES key opened it (0 current, 1 previous); None in plaintext mode


def open_envelope(body: bytes, query: Mapping[str, str], guard: Guard, keys: Keys | None) -> Envelope:
    """Plaintext as is, if the guard accepts plaintext; with encrypt_type=aes (exactly), the one <Encrypt>
    element checked against msg_signature and opened, and the XML inside parsed like a plaintext body."""
    encrypt_type = query.get("encrypt_type")
    if encrypt_type is None or encrypt_type == "raw":
        guard.check_plaintext()
        plain = xml_root(body)  # which also checks that the body is UTF-8
        return Envelope(body.decode(), plain, "plaintext")
    if encrypt_type != "aes":  # WeChat sends exactly "aes"; "AES" or " aes" is somebody else
        raise Malformed("encrypt_type is neither aes nor raw")
    root = xml_root(body)
    found = root.findall("Encrypt")
    if len(found) != 1 or not found[0].text:
        raise Malformed("encrypt_type=aes needs exactly one <Encrypt>")
    encrypted = found[0].text
    if keys is None:
        raise Malformed("an encrypted message, but WECHAT_AES_KEY is not set")
    guard.check_message(query.get("msg_signature"), query.get("timestamp", ""), query.get("nonce", ""), encrypted)
    try:
        xml, index = keys.open(encrypted)
    except Undecryptable as exc:
        raise Malformed(str(exc)) from exc
    # Compatible mode (兼容模式) repeats the plaintext fields beside <Encrypt>; only the ciphertext is trusted.
    mode: Mode = "compatible" if root.find("MsgType") is not None else "safe"
    return Envelope(xml, xml_root(xml), mode, index)


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


def translate(envelope: Envelope) -> Inbound:
    """The inbound message; an unknown type becomes "unsupported", never an exception."""
    root = envelope.root  # already checked: no DTD, no entities, not deep
    if len({child.tag for child in root}) != len(root):  # which of two FromUserName would be the sender?
        raise Malformed("a field appears twice")
    try:
        data = fields_of(root)
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
        if isinstance(message, SubscribeEvent | SubscribeScanEvent):
            return Inbound(openid, account, "subscribe", once_id)
        return Inbound(openid, account, "ignored", once_id)
    msg_id = _text(data, "MsgId")
    if not _number(msg_id, MAX_ID_DIGITS):
        raise Malformed("MsgId is missing or not a plain number")
    once_id = f"wechat:msg:{msg_id}"
    if isinstance(message, TextMessage | VoiceMessage):
        text = data.get("Content" if isinstance(message, TextMessage) else "Recognition")
        if text is not None and not isinstance(text, str):
            raise Malformed("Content or Recognition is not text")
        if isinstance(message, VoiceMessage) and not (text or "").strip():
            return Inbound(openid, account, "voice_unrecognised", once_id)
        return Inbound(openid, account, "text", once_id, text or "")
    return Inbound(openid, account, "unsupported", once_id, msg_type if msg_type in KINDS else "other")
