"""The one-pass reader (xmlread.read) against the ElementTree path it replaces for the usual message: the same
refusals and the same fields, translations and envelopes for every body of the fuzz corpus and for generated
XML; deep nesting refused while reading, DTDs and entities refused, BOMs and declared encodings as before."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import pytest
from defusedxml import DefusedXmlException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.wechat import parse, xmlread
from bot.channels.wechat.crypto import Keys
from bot.channels.wechat.parse import MAX_DEPTH, Envelope, Malformed, open_envelope, translate
from bot.channels.wechat.security import Guard
from bot.core.clock import FixedClock
from tests.wechat_corpus import DECLARED, Corpus
from tests.wechat_kit import AES_KEY, APPID, TOKEN

TEXT = (
    "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>"
    "<CreateTime>1764600000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[我在上海，居住证10月20号过期了]]></Content><MsgId>100000000000123</MsgId></xml>"
)


def reference_root(data: bytes | str) -> Element:
    """xml_root as it was before the one-pass reader (defusedxml, then the depth walk): the oracle."""
    try:
        raw = data.encode() if isinstance(data, str) else data
        raw.decode()
    except UnicodeError as exc:
        raise Malformed("not UTF-8") from exc
    start = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if start.startswith(b"<?xml"):
        end = start.find(b"?>")
        declared = re.search(rb"""encoding\s*=\s*(["']?)([^"'\s?>]*)""", start[: end if end >= 0 else 200])
        if declared is not None and declared[2].lower() not in (b"utf-8", b"utf8"):
            raise Malformed("declared")
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError, LookupError, UnicodeError, RecursionError) as exc:
        raise Malformed(type(exc).__name__) from exc
    if root.tag != "xml":
        raise Malformed("root")
    level, depth = [child for child in root if len(child)], 2
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise Malformed("deep")
        level = [grandchild for child in level for grandchild in child if len(grandchild)]
    return root


def outcome(document: xmlread.Document) -> tuple[Any, ...]:
    """Everything the rest of the bot takes from a parsed document: its fields, its translation and, read as
    an AES envelope, its ciphertext and mode. A refusal is recorded as such."""

    def attempt(run: Any) -> Any:
        try:
            return run()
        except (Malformed, TypeError) as exc:
            return f"refused: {type(exc).__name__}"

    return (
        attempt(lambda: parse._fields(document)),
        attempt(lambda: translate(Envelope("", document, "plaintext"))),
        attempt(lambda: parse.sealed(document)),
    )


def check_same(data: bytes | str) -> None:
    """read() refuses exactly what the old path refuses, and otherwise gives what it gave."""
    try:
        tree = reference_root(data)
    except Malformed:
        with pytest.raises(Malformed):
            xmlread.read(data)
        with pytest.raises(Malformed):
            parse.xml_root(data)
        return
    document = xmlread.read(data)
    assert outcome(document) == outcome(tree), data
    flat = parse._flat(tree)
    if flat is not None and not any(name.startswith("{") for name in flat):  # the usual shape takes no tree
        assert isinstance(document, dict), data
    if isinstance(document, dict):
        assert flat is not None
        assert {name: text.strip() or None for name, text in document.items()} == flat
    rebuilt = parse.xml_root(data)
    assert parse.fields_of(rebuilt) == parse.fields_of(tree) if len(rebuilt) else not len(tree)


def corpus_bodies() -> list[bytes]:
    corpus = Corpus(seed=7, now=1_764_600_000)
    return sorted({probe.body for probe in corpus.probes()})


def test_the_whole_fuzz_corpus_reads_as_before() -> None:
    bodies = corpus_bodies()
    assert len(bodies) > 2000
    for body in bodies:
        check_same(body)


NAMES = ["xml", "ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Encrypt", "Event"]
NAMES += ["EventKey", "a", "w:Content", "item"]
SAMPLE_TEXTS = ["", " ", "\n  ", "\r\n", "text", "6", "1764600000", "100000000000123", "click", "event", "]]>"]
SAMPLE_TEXTS += ["<![CDATA[x]]>", "<![CDATA[ 你好 ]]>", "<![CDATA[]]>", "&amp;", "&lt;", "&#65;", "&#0;", "&e;"]
SAMPLE_TEXTS += ["签注", "😀", "\ufffe", "\u0085", "\x00", "\x1f", "&#x1F;", "<!-- c -->", "<?pi x?>", "subscribe"]
SAMPLE_TEXTS += ["<![CDATA[a]]><![CDATA[b]]>"]
TEXTS = st.sampled_from(SAMPLE_TEXTS) | st.text(max_size=12)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(NAMES))
    attributes = draw(st.sampled_from(["", "", "", ' a="1"', ' xmlns:w="urn:w"', ' xmlns="urn:x"', " a='1' a='2'"]))
    if depth >= 8 or draw(st.integers(0, 3)) == 0:
        body = draw(TEXTS)
    else:
        children = draw(st.lists(elements(depth + 1), max_size=4))
        body = "".join(draw(TEXTS) + child for child in children) + draw(TEXTS)
    if not body and draw(st.booleans()):
        return f"<{name}{attributes}/>"
    return f"<{name}{attributes}>{body}</{name}>"


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    prefix = draw(
        st.sampled_from(["", "", "\ufeff", " ", "<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-8"?>'])
        | st.sampled_from(
            ['<?xml version="1.0" encoding="gbk"?>', "<!DOCTYPE xml>", '<!DOCTYPE xml [<!ENTITY e "x">]>']
        )
    )
    fields = draw(st.lists(st.tuples(st.sampled_from(NAMES), TEXTS), max_size=8))
    usual = "<xml>" + "".join(f"<{name}>{text}</{name}>" for name, text in fields) + "</xml>"
    root = usual if draw(st.booleans()) else draw(elements())
    text = prefix + root + draw(st.sampled_from(["", "\n", " x", "<a/>"]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # a byte changed somewhere
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_xml_reads_as_before(data: bytes) -> None:
    check_same(data)


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=60))
def test_any_text_field_reads_as_before(text: str) -> None:
    check_same(TEXT.replace("我在上海，居住证10月20号过期了", text).encode("utf-8", "surrogatepass"))
    check_same(f"<xml><FromUserName>oU</FromUserName><Content>{text}</Content></xml>".encode("utf-8", "surrogatepass"))


def test_the_usual_message_is_read_without_a_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmlread, "_tree", lambda raw: pytest.fail("a tree was built"))
    monkeypatch.setattr(xmlread, "_fields", lambda raw: pytest.fail("expat was needed"))  # recognised as text
    document = xmlread.read(TEXT.encode())
    assert document == {
        "ToUserName": "gh_1",
        "FromUserName": "oUser1",
        "CreateTime": "1764600000",
        "MsgType": "text",
        "Content": "我在上海，居住证10月20号过期了",
        "MsgId": "100000000000123",
    }
    pretty = "<xml>\n  <ToUserName>gh_1</ToUserName>\n  <Content><![CDATA[ 你好 ]]></Content>\n</xml>\n"
    assert xmlread.read(pretty) == {"ToUserName": "gh_1", "Content": " 你好 "}  # stripped later, as _flat strips


def test_other_shapes_still_get_a_tree() -> None:
    for xml in (
        "<xml><a>1</a><a>2</a></xml>",
        "<xml>stray<a>1</a></xml>",
        "<xml><a>1</a>tail</xml>",
        '<xml id="1"><a>1</a></xml>',
        '<xml><a b="1">1</a></xml>',
        "<xml><a><b>1</b></a></xml>",
        '<xml><w:a xmlns:w="urn:w">1</w:a></xml>',
        "<xml></xml>",
        "<xml>text</xml>",
    ):
        assert isinstance(xmlread.read(xml), Element), xml
        check_same(xml)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 50, 1_000, 20_000, 200_000])
def test_deep_nesting_is_refused_while_reading(depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmlread, "_tree", lambda raw: pytest.fail("a tree was built"))
    closed = "<xml>" + "<a>" * (depth - 1) + "x" + "</a>" * (depth - 1) + "</xml>"
    for xml in (closed, "<xml>" + "<a>" * depth, "<xml>" + "<a>" * depth + "<<<"):  # refused before the error
        with pytest.raises(Malformed, match="nested more than"):
            xmlread.read(xml)
        with pytest.raises(Malformed, match="nested more than"):
            parse.xml_root(xml)


def test_the_deepest_allowed_message_is_read() -> None:
    xml = "<xml><FromUserName>oU</FromUserName>" + "<a>" * (MAX_DEPTH - 1) + "x" + "</a>" * (MAX_DEPTH - 1) + "</xml>"
    assert isinstance(xmlread.read(xml), Element)
    check_same(xml)


@pytest.mark.parametrize(
    "prefix",
    [
        "<!DOCTYPE xml>",
        '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">',
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE xml [<!ENTITY e "inner">]>',
        '<!DOCTYPE xml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY e "&b;&b;">]>',
        '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>',
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "x" NDATA n>]>',
    ],
)
def test_dtds_and_entities_are_refused(prefix: str) -> None:
    for xml in (prefix + TEXT, prefix + TEXT.replace("gh_1", "&e;")):
        with pytest.raises(Malformed, match="Forbidden"):
            xmlread.read(xml)
        check_same(xml)


def test_an_entity_without_a_dtd_is_refused() -> None:
    with pytest.raises(Malformed):
        xmlread.read(TEXT.replace("1764600000", "&e;"))
    document = xmlread.read(TEXT.replace("<![CDATA[oUser1]]>", "o&amp;&#65;"))
    assert isinstance(document, dict)
    assert document["FromUserName"] == "o&A"


def test_byte_order_marks() -> None:
    assert isinstance(xmlread.read(b"\xef\xbb\xbf" + TEXT.encode()), dict)  # UTF-8's is harmless
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        with pytest.raises(Malformed, match="not UTF-8"):
            xmlread.read(TEXT.encode(encoding))
    for bom in (b"\xff\xfe", b"\xfe\xff"):
        with pytest.raises(Malformed, match="not UTF-8"):
            xmlread.read(bom + TEXT.encode())
    with pytest.raises(Malformed, match="not UTF-8"):
        xmlread.read(TEXT + "\udc80")  # a lone surrogate in a str


@pytest.mark.parametrize("name", DECLARED)
def test_declared_encodings(name: str) -> None:
    for quote in ("'", '"', ""):
        xml = f"<?xml version='1.0' encoding={quote}{name}{quote}?>{TEXT}"
        if name.lower() == "utf-8" and quote:  # unquoted is not XML; expat cannot read "utf8" through Python's codecs
            assert isinstance(xmlread.read(xml), dict)
        else:
            with pytest.raises(Malformed):
                xmlread.read(xml)
        check_same(xml)


def test_the_envelope_keeps_a_tree_for_those_who_walk_it(clock: FixedClock) -> None:
    guard = Guard(TOKEN, 300, clock)
    envelope = open_envelope(TEXT.encode(), {}, guard, None)
    assert isinstance(envelope.document, dict)
    assert [child.tag for child in envelope.root] == list(envelope.document)
    assert translate(envelope).text == "我在上海，居住证10月20号过期了"


@pytest.mark.parametrize("compatible", [False, True])
def test_an_encrypted_message_opens_as_before(compatible: bool, clock: FixedClock) -> None:
    corpus = Corpus(now=1_764_600_000)
    keys = Keys(TOKEN, APPID, AES_KEY)
    probe = corpus.deliver("valid", "compatible" if compatible else "safe", TEXT.encode())
    guard = Guard(TOKEN, 300, clock)
    envelope = open_envelope(probe.body, probe.params, guard, keys)
    assert (envelope.mode, envelope.key, envelope.xml) == ("compatible" if compatible else "safe", 0, TEXT)
    assert translate(envelope).once_id == "wechat:msg:100000000000123"
    pretty = probe.body.replace(b"<Encrypt>", b"\n  <Encrypt>").replace(b"</xml>", b"\n</xml>\n")
    assert open_envelope(pretty, probe.params, guard, keys) == envelope


def test_every_character_the_quick_path_takes_is_read_so_by_expat() -> None:
    """`_usual` recognises text without expat: each character it lets through, as plain text and in a CDATA
    section, is one expat accepts and reports unchanged (every BMP character, and a sample of the others)."""
    candidates = [*range(0x20, 0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x110000, 97), 0x1FFFE, 0x10FFFF]
    for code in (9, 10, *candidates):
        char = chr(code)
        for body in (char, f"<![CDATA[{char}]]>"):
            xml = f"<xml><A>{body}</A></xml>"
            quick = xmlread._usual(xml)
            if quick is None:
                continue
            assert quick == {"A": char}
            assert xmlread._fields(xml.encode()) == quick, hex(code)
