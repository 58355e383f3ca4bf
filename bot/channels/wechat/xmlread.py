"""Reading a message's XML: UTF-8 only, no DTD or entity, not deep. The usual message, <xml> around fields of
plain text, becomes a dict without building a tree: recognised as text when it is written the plain way WeChat
writes it, read in one expat pass otherwise. Any other shape is then parsed again by defusedxml into an
ElementTree, once that pass has refused whatever the tree must never see (a DTD, an entity, deep nesting).
defusedxml and the tree walk cost four times what the usual message needs, for every message."""

from __future__ import annotations

import re
from typing import NoReturn
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# WeChat's messages are two levels deep (<xml><Content>); a few events nest further, down to
# <xml><SendPicsInfo><PicList><item><PicMd5Sum>. Anything deeper is refused while it is read.
MAX_DEPTH = 6
UTF8_NAMES = (b"utf-8", b"utf8")

Fields = dict[str, str]  # each field's text as sent, unstripped, for the usual shape of a message
Document = Fields | Element  # what `read` gives: the fields, or the tree for any other shape


class Malformed(Exception):
    """Not a WeChat message we can read (bad XML, a DTD or entity, missing fields): answered with 400."""


def read(data: bytes | str) -> Document:
    """The message's fields, or its tree when they are not all plain text each sent once: refused (Malformed)
    exactly where `xml_root` refuses. Three ways, each only when the one before cannot tell: the usual message
    recognised as text (`_usual`), one expat pass (`_fields`), and the tree, built only after that pass has
    accepted the bytes."""
    raw, text = _utf8(data)
    fields = _usual(text)
    if fields is None:
        fields = _fields(raw)
    return fields if fields is not None else _tree(raw)


def xml_root(data: bytes | str) -> Element:
    """The parsed document: UTF-8 only, no DOCTYPE or entity declaration (XXE, billion laughs), at most
    MAX_DEPTH levels. Whatever the bytes are, the result is a tree or Malformed, never another exception."""
    raw, _ = _utf8(data)
    _fields(raw)  # refuses a DTD or a deep document before any tree is built
    return _tree(raw)


def _utf8(data: bytes | str) -> tuple[bytes, str]:
    """The bytes and the text, if they are UTF-8: expat would read a UTF-16 byte order mark, or a declared
    single-byte encoding, silently."""
    try:
        raw, text = (data.encode(), data) if isinstance(data, str) else (data, data.decode())
    except UnicodeError as exc:
        raise Malformed("not UTF-8") from exc
    _check_declaration(raw)
    return raw, text


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


def _usual(text: str) -> Fields | None:
    """The fields of the usual message, recognised without a parser; None for anything else, which expat then
    reads. What it accepts is well-formed XML that expat, configured as in `_fields`, accepts whole: it
    has no declaration, DOCTYPE, comment, processing instruction, attribute or namespace, no "&" (so no
    reference of any kind), no carriage return (which expat would turn into a line feed), no character XML
    refuses and no "]]>" outside a CDATA end. Each field's text is then exactly the character data expat would
    report; tests/test_wechat_parse_fast.py checks every character of the classes below against expat."""
    parts = _FIELD.split(text)  # around each field: the text between, then its name, section and plain text
    between = parts[::4]
    if len(parts) < 5 or between[0].rstrip(_SPACE) != "<xml>" or between[-1].strip(_SPACE) != "</xml>":
        return None
    if len(between) > 2 and "".join(between[1:-1]).strip(_SPACE):  # only spaces between fields
        return None
    fields: Fields = {}
    for name, section, plain in zip(parts[1::4], parts[2::4], parts[3::4], strict=True):
        value = plain if section is None else section
        if name in fields or "]]>" in value:
            return None  # a field twice is for the tree; "]]>" is refused as text, or the section ended early
        fields[name] = value
    return fields


# Characters XML allows, less DEL and the C1 controls (allowed, but not worth the argument) and carriage return.
_PLAIN = r"\t\n\x20-\x25\x27-\x3b\x3d-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"  # no & <
_SECTION = r"\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
_NAME = r"(?![Xx][Mm][Ll])[A-Za-z_][A-Za-z0-9_]*"  # ASCII, and none of the names XML reserves
_TEXT = rf"<!\[CDATA\[([{_SECTION}]*?)\]\]>|([{_PLAIN}]*)"  # one CDATA section, or plain text
_FIELD = re.compile(rf"<({_NAME})>(?:{_TEXT})</\1>")
_SPACE = " \t\n"


def _fields(raw: bytes) -> Fields | None:
    """One expat pass over bytes UTF-8 was checked for: the fields, or None when the message has another shape
    (or no field at all). expat is configured as ElementTree configures it (namespaces joined with "}", text
    buffered), so that both accept and refuse the same bytes. A DOCTYPE, an entity declaration or an external
    entity stops the parse where it starts, as defusedxml stops it; an element deeper than MAX_DEPTH, or a root
    other than <xml>, stops it at that element's start tag. Meanwhile the fields of <xml> are collected for as
    long as the message keeps the usual shape: no attributes, no namespaces, no text beside the fields, no
    field inside a field, no field twice. Closures rather than methods: this runs for every element."""
    fields: Fields = {}
    text: list[str] = []  # the character data since the last start or end tag that took it
    depth = 0
    flat = True

    def start(name: str, attributes: list[str] | dict[str, str]) -> None:
        nonlocal depth, flat
        depth += 1
        if depth == 2:
            if text:  # the text of <xml> before the first field, or the last field's tail
                if "".join(text).strip():
                    flat = False
                text.clear()
            if attributes or "}" in name or name in fields:
                flat = False
        elif depth == 1:
            if name != "xml":  # with a namespace, ElementTree's tag would be "{uri}xml"
                raise Malformed("the root element is not <xml>")
            flat = not attributes
        elif depth > MAX_DEPTH:
            raise Malformed(f"elements nested more than {MAX_DEPTH} deep")
        else:
            flat = False

    def end(name: str) -> None:
        nonlocal depth, flat
        if depth == 2:
            fields[name] = "".join(text)
            text.clear()
        elif depth == 1 and text and "".join(text).strip():  # text after the last field
            flat = False
        depth -= 1

    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _entity
    parser.UnparsedEntityDeclHandler = _unparsed_entity
    parser.ExternalEntityRefHandler = _external_entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise Malformed(f"ParseError: {exc}") from exc
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:  # expat's encoding handler, mostly
        raise Malformed(f"unreadable XML: {type(exc).__name__}") from exc
    return fields if flat and fields else None


def _doctype(name: str, system_id: str | None, public_id: str | None, internal_subset: bool) -> NoReturn:
    raise Malformed("DTDForbidden")


def _entity(name: str, parameter: bool, value: str | None, *declared: str | None) -> NoReturn:
    raise Malformed("EntitiesForbidden")


def _unparsed_entity(name: str, base: str | None, system_id: str, public_id: str | None, notation: str) -> NoReturn:
    raise Malformed("EntitiesForbidden")


def _external_entity(context: str, base: str | None, system_id: str | None, public_id: str | None) -> NoReturn:
    raise Malformed("ExternalReferenceForbidden")


def _tree(raw: bytes) -> Element:
    """defusedxml's tree of bytes `_fields` has accepted; its own refusals and the depth walk stay as a second
    line, should the two ever disagree."""
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


def _check_depth(root: Element) -> None:
    """Level by level, without recursion: a message nested thousands deep is refused, not walked."""
    level = [child for child in root if len(child)]  # the usual message stops here: every field is plain text
    depth = 2
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise Malformed(f"elements nested more than {MAX_DEPTH} deep")
        level = [grandchild for child in level for grandchild in child if len(grandchild)]
