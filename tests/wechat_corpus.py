"""A corpus of hostile /wechat requests, by mutation class (reliability.md rows 1a-1c), for the fuzz test and
bench/wechat_fuzz.py: random bytes, truncation, invalid UTF-8, encoding declarations, deep nesting, entities and
DTDs, huge fields, duplicate elements, CDATA tricks, control characters, empty bodies, wrong MsgTypes, missing
fields, namespaces, and AES envelope mutations; each XML body sent signed in plaintext, sealed in safe and
compatible mode, and unsigned. Deterministic for a seed; every signed request has a nonce of its own."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from wechatpy.crypto import PrpCrypto

from tests.servers import free_port
from tests.wechat_kit import ACCOUNT, AES_KEY, APPID, OLD_AES_KEY, TOKEN

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Probe:
    """One request: its mutation class, query parameters and body."""

    kind: str
    params: dict[str, str]
    body: bytes


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


MODES = ("plaintext", "safe", "compatible", "unsigned")
FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId")
QUESTIONS = ("办签注要交钱吗", "我在上海，居住证10月20号过期了", "签注过期了怎么办", "2", "北京", "谢谢", "你好")
DECLARED = [
    *("gbk", "gb2312", "GB18030", "big5", "utf-16", "UTF-16LE", "utf-16be", "utf-32", "utf-7", "shift_jis"),
    *("euc-kr", "iso-2022-jp", "latin-1", "ISO-8859-1", "us-ascii", "cp1252", "koi8-r", "rot13", "rot_13"),
    *("base64", "hex", "zlib", "bz2", "idna", "punycode", "uu", "quopri", "x-no-such-encoding", "mbcs"),
    *("utf-8-sig", "UTF8", "utf-8", "UTF-8"),
]
ODD_DECLARATIONS = (
    "<?xml version='2.0'?>",
    "<?xml?>",
    "<?xml encoding='gbk' version='1.0'?>",
    " <?xml version='1.0'?>",
)
CONTROL = [chr(c) for c in (*range(0, 32), 0x7F, 0x85, 0xFFFE, 0xFFFF, 0x202E, 0x200B, 0xFEFF)]
ODD_TEXT = ["😀🎉", "𠮷野家", "\u0000", "]]>", "<![CDATA[", "&amp;", "&#0;", "&#xD800;", "&#x1F;", "&lt;xml&gt;"]


class Corpus:
    """Builds the probes; `now` is the timestamp they are signed with (WeChat allows 300 s either way)."""

    def __init__(self, seed: int = 20261201, now: int | None = None, token: str = TOKEN) -> None:
        self.rng = random.Random(seed)
        self.now = int(time.time()) if now is None else now
        self.token = token
        self._nonce = itertools.count(1)
        self._msg_ids = itertools.count(8_100_000_000_000_000_001)
        self._prp = PrpCrypto(base64.b64decode(AES_KEY + "="))

    # --- signing and sealing ------------------------------------------------------------------------------

    def signed(self) -> dict[str, str]:
        ts, nonce = str(self.now), f"fz{next(self._nonce)}"
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "oFuzz"}

    def seal(self, plain: bytes, key: str = AES_KEY, appid: str = APPID) -> str:
        prp = self._prp if key == AES_KEY else PrpCrypto(base64.b64decode(key + "="))
        sealed: bytes = prp.encrypt(plain, appid)
        return sealed.decode()

    def encrypted(self, params: dict[str, str], ciphertext: str) -> dict[str, str]:
        """`params` with encrypt_type=aes and a msg_signature that holds for `ciphertext`."""
        msg_signature = sign(self.token, params["timestamp"], params["nonce"], ciphertext)
        return params | {"encrypt_type": "aes", "msg_signature": msg_signature}

    def unsigned(self) -> dict[str, str]:
        """A query that fails authentication one way or another."""
        ts, nonce = str(self.now), f"fz{next(self._nonce)}"
        good = sign(self.token, ts, nonce)
        variants: list[dict[str, str]] = [
            {"signature": "0" * 40, "timestamp": ts, "nonce": nonce},
            {"signature": good.upper(), "timestamp": ts, "nonce": nonce},
            {"signature": sign("not-the-token", ts, nonce), "timestamp": ts, "nonce": nonce},
            {"timestamp": ts, "nonce": nonce},
            {"signature": "", "timestamp": ts, "nonce": nonce},
            {"signature": "签名" * 20, "timestamp": ts, "nonce": nonce},
            {"signature": " " + good, "timestamp": ts, "nonce": nonce},
            {"signature": good, "timestamp": "1" + "0" * 400, "nonce": nonce},
            {"signature": good, "timestamp": "nan", "nonce": nonce},
            {"signature": good, "timestamp": str(self.now - 10**9), "nonce": nonce},
            {"signature": good, "timestamp": ts},
            {},
        ]
        return self.rng.choice(variants)

    def delivered(self, kind: str, xml: bytes) -> Iterator[Probe]:
        """`xml` as WeChat would post it in each mode, and once without a valid signature."""
        for mode in MODES:
            yield self.deliver(kind, mode, xml)

    def deliver(self, kind: str, mode: str, xml: bytes) -> Probe:
        """`xml` posted one way: signed plaintext, sealed in safe or compatible mode, or unsigned."""
        if mode == "plaintext":
            return Probe(f"{kind}/plaintext", self.signed(), xml)
        if mode == "unsigned":
            return Probe(f"{kind}/unsigned", self.unsigned(), xml)
        params = self.signed()
        ciphertext = self.seal(xml)
        encrypt = f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt>".encode()
        if mode == "safe":
            body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>".encode() + encrypt + b"</xml>"
        else:  # compatible: beside the plaintext fields, before the last closing tag
            head, end, tail = xml.rpartition(b"</xml>")
            body = head + encrypt + end + tail if end else xml + encrypt
        return Probe(f"{kind}/{mode}", self.encrypted(params, ciphertext), body)

    # --- valid messages, to mutate ------------------------------------------------------------------------

    def message(self, content: str | None = None, user: str | None = None) -> str:
        user = user or f"oFuzz{self.rng.randrange(200)}"
        content = content if content is not None else self.rng.choice(QUESTIONS)
        return (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{self.now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{next(self._msg_ids)}</MsgId></xml>"
        )

    def fields(self, **overrides: str | None) -> str:
        """A text message with fields replaced (a value) or left out (None), each element written as given."""
        values: dict[str, str | None] = {
            "ToUserName": ACCOUNT,
            "FromUserName": f"oFuzz{self.rng.randrange(200)}",
            "CreateTime": str(self.now),
            "MsgType": "text",
            "Content": self.rng.choice(QUESTIONS),
            "MsgId": str(next(self._msg_ids)),
        } | overrides
        return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v is not None) + "</xml>"

    # --- the mutation classes -----------------------------------------------------------------------------

    def random_bytes(self) -> Iterator[bytes]:
        for _ in range(120):
            yield self.rng.randbytes(self.rng.choice((1, 7, 64, 300, 2000, 9000)))
        for _ in range(30):
            yield b"<xml>" + self.rng.randbytes(self.rng.randrange(1, 400)) + b"</xml>"

    def truncated(self) -> Iterator[bytes]:
        for _ in range(120):
            xml = self.message().encode()
            yield xml[: self.rng.randrange(len(xml))]
        for _ in range(20):
            xml = self.message("签注" * 50).encode()
            cut = self.rng.randrange(len(xml))
            yield xml[:cut] + xml[cut + 1 :]  # one byte dropped: a broken UTF-8 sequence or tag

    def invalid_utf8(self) -> Iterator[bytes]:
        bad = (b"\xff", b"\xfe", b"\xc0\x80", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe4\xb8", b"\xc3")
        for _ in range(120):
            xml = self.message().encode()
            at = self.rng.randrange(len(xml))
            yield xml[:at] + self.rng.choice(bad) + xml[at:]
        for text in ("签注", "我在上海"):
            yield self.message(text).encode("gbk", "replace")
            yield self.message(text).encode("utf-16")
            yield self.message(text).encode("utf-16-le")
            yield self.message(text).encode("utf-32")

    def declarations(self) -> Iterator[bytes]:
        for name in DECLARED:
            for quote in ('"', "'"):
                yield f"<?xml version={quote}1.0{quote} encoding={quote}{name}{quote}?>{self.message()}".encode()
            yield f"<?xml version='1.0' encoding={name}?>{self.message()}".encode()
            yield f"\ufeff<?xml version='1.0' encoding='{name}'?>{self.message()}".encode()
        for odd in ODD_DECLARATIONS:
            yield (odd + self.message()).encode()

    def deep(self) -> Iterator[bytes]:
        for depth in (3, 5, 6, 7, 10, 50, 100, 500, 990, 1000, 1500, 3000, 10000, 20000):
            inner = "<a>" * depth + "x" + "</a>" * depth
            yield self.fields(Content=inner).encode()
            yield ("<xml>" + "<xml>" * depth + "</xml>" * depth + "</xml>").encode()
            yield self.fields(FromUserName=inner).encode()
        for depth in (2000, 5000):
            yield self.fields(Content="<a>" * depth).encode()  # never closed

    def entities(self) -> Iterator[bytes]:
        msg = self.fields(Content="&e;")
        laughs = '<!ENTITY a "lol">'
        laughs += "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9))
        for dtd in (
            '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE xml [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>',
            '<!DOCTYPE xml [<!ENTITY e "inner">]>',
            f"<!DOCTYPE xml [{laughs}<!ENTITY e '&j;'>]>",
            '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">',
            '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>',
            "<!DOCTYPE xml>",
            '<!DOCTYPE xml [<!ELEMENT xml ANY><!ATTLIST xml a CDATA "x">]>',
        ):
            for _ in range(6):
                yield (dtd + msg).encode()
        xinclude = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
        references = ("&e;", "&amp;&lt;&gt;&quot;&apos;", "&#0;", "&#xD800;", "&#x1F;", "&#1114112;", "&#65;")
        for content in (*references, xinclude):
            for _ in range(6):
                yield self.fields(Content=content).encode()

    def huge(self) -> Iterator[bytes]:
        for digits in (4300, 4301, 5000, 20000, 60000):
            yield self.message("7" * digits).encode()
            yield self.fields(MsgId="9" * digits).encode()
            yield self.fields(CreateTime="1" * digits).encode()
        for size in (1000, 10000, 21000, 22000):
            yield self.message("签" * size).encode()
            yield self.fields(FromUserName="o" * size * 3).encode()
            yield self.fields(MsgType="text" * size).encode()
        for _ in range(20):
            yield self.message("".join(self.rng.choice(QUESTIONS) for _ in range(self.rng.randrange(50, 400)))).encode()

    def duplicates(self) -> Iterator[bytes]:
        for field in (*FIELDS, "Encrypt", "Event", "EventKey", "Recognition"):
            for _ in range(4):
                xml = self.message()
                yield xml.replace("</xml>", f"<{field}>o{self.rng.randrange(9)}</{field}></xml>").encode()
                yield xml.replace("<xml>", f"<xml><{field}>first</{field}>").encode()
        for _ in range(10):
            yield self.message().replace("<MsgType>", '<MsgType a="1" a="2">').encode()
            yield self.message().replace("<xml>", '<xml id="1" id="1">').encode()
            yield self.message().replace("<Content>", '<Content lang="zh">').encode()

    def cdata(self) -> Iterator[bytes]:
        tricks = [
            "<![CDATA[<![CDATA[x]]>]]>",
            "<![CDATA[x]]>]]>",
            "<![CDATA[x",
            "<![CDATA[]]>",
            "<![CDATA[</Content><MsgType>event</MsgType><Content>]]>",
            "<![CDATA[x]]><![CDATA[y]]>",
            "<![CDATA[x]]>tail<b>y</b>",
            "<![cdata[x]]>",
            "<![CDATA[\x00]]>",
            "<![CDATA[]]]]><![CDATA[>]]>",
        ]
        for trick in tricks:
            for _ in range(5):
                yield self.fields(Content=trick).encode()
                yield self.fields(FromUserName=trick).encode()
        for _ in range(10):
            yield f"<![CDATA[{self.message()}]]>".encode()

    def control(self) -> Iterator[bytes]:
        for char in CONTROL:
            yield self.message(f"签注{char}过期").encode("utf-8", "surrogatepass")
            yield self.fields(FromUserName=f"o{char}").encode("utf-8", "surrogatepass")
        for text in ODD_TEXT:
            for _ in range(3):
                yield self.message(text).encode()
                yield self.fields(Content=text).encode()

    def empty(self) -> Iterator[bytes]:
        for body in (b"", b" ", b"\n", b"\r\n\r\n", b"\x00", b"<xml/>", b"<xml></xml>", b"<xml> </xml>", b"<x/>"):
            for _ in range(4):
                yield body
        for _ in range(10):
            yield b" " * self.rng.randrange(1, 60000)

    def msg_types(self) -> Iterator[bytes]:
        types = ["", " ", "TEXT", "Text", "unknown", "42", "event", "device_text", "device_event", "image", "voice"]
        types += ["video", "shortvideo", "location", "link", "file", "miniprogrampage", "签注", "text\x0b", "event "]
        for msg_type in types:
            for _ in range(3):
                yield self.fields(MsgType=msg_type).encode("utf-8", "surrogatepass")
        events = ["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "scancode_push", "pic_sysphoto"]
        events += ["", "unknown", "subscribe_scan", "TEMPLATESENDJOBFINISH", "MASSSENDJOBFINISH"]
        for event in events:
            for key in ("", "help", "qrscene_1", "scanbarcode|x", "x" * 3000):
                xml = self.fields(MsgType="event", Content=None, MsgId=None)
                yield xml.replace("</xml>", f"<Event>{event}</Event><EventKey>{key}</EventKey></xml>").encode()

    def missing(self) -> Iterator[bytes]:
        for field in FIELDS:
            for _ in range(8):
                yield self.fields(**{field: None}).encode()
            yield self.fields(**{field: ""}).encode()
            yield self.fields(**{field: " "}).encode()

    def namespaces(self) -> Iterator[bytes]:
        for root in ('<xml xmlns="urn:x">', '<xml xmlns:w="urn:w">', "<w:xml xmlns:w='urn:w'>", "<xml:xml>"):
            for _ in range(4):
                xml = self.message().replace("<xml>", root, 1)
                if root.startswith("<w:"):
                    xml = xml.replace("</xml>", "</w:xml>")
                if root.startswith("<xml:"):
                    xml = xml.replace("</xml>", "</xml:xml>")
                yield xml.encode()
        for _ in range(8):
            yield self.message().replace("<Content>", '<w:Content xmlns:w="urn:w">', 1).encode()

    def envelopes(self) -> Iterator[Probe]:
        """Mutations of the AES envelope itself (row 1c): each one otherwise signed as WeChat signs it."""

        def safe_body(ciphertext: str) -> bytes:
            return f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()

        def raw(good: str) -> bytes:
            return base64.b64decode(good)

        mutations: list[tuple[str, Callable[[str], str]]] = [
            ("wrong key", lambda _: self.seal(self.message().encode(), key=OLD_AES_KEY)),
            ("wrong appid", lambda _: self.seal(self.message().encode(), appid="wx-not-ours")),
            ("bit flip", lambda good: self._flip(good)),
            ("truncated", lambda good: good[: self.rng.randrange(1, len(good))]),
            ("block truncated", lambda good: base64.b64encode(raw(good)[:-16]).decode()),
            ("not base64", lambda good: good[:10] + "!@#$%^&*" + good[10:]),
            ("random last block", lambda good: base64.b64encode(raw(good)[:-16] + self.rng.randbytes(16)).decode()),
            ("random blocks", lambda _: base64.b64encode(self.rng.randbytes(16 * self.rng.randrange(1, 40))).decode()),
            ("empty", lambda _: ""),
            ("whitespace", lambda good: " " + good + "\n"),
            ("not a block", lambda _: base64.b64encode(self.rng.randbytes(self.rng.randrange(1, 60))).decode()),
            ("huge", lambda _: base64.b64encode(self.rng.randbytes(45000)).decode()),
            ("not UTF-8 inside", lambda _: self.seal(b"<xml>\xff\xfe</xml>")),
            ("not XML inside", lambda _: self.seal(self.rng.randbytes(200))),
            ("lying length", lambda _: self._lying_length()),
        ]
        for name, mutate in mutations:
            for _ in range(12):
                good = self.seal(self.message().encode())
                ciphertext = mutate(good)
                yield Probe(f"aes {name}", self.encrypted(self.signed(), ciphertext), safe_body(ciphertext))
        for _ in range(15):
            ciphertext = self.seal(self.message().encode())
            params = self.encrypted(self.signed(), ciphertext)
            yield Probe("aes bad msg_signature", params | {"msg_signature": "0" * 40}, safe_body(ciphertext))
            unsigned = {k: v for k, v in params.items() if k != "msg_signature"}
            yield Probe("aes no msg_signature", unsigned, safe_body(ciphertext))
            for encrypt_type in ("AES", " aes", "Aes", "raw", "", "aes\x00"):
                yield Probe("aes encrypt_type", params | {"encrypt_type": encrypt_type}, safe_body(ciphertext))
            params = self.encrypted(self.signed(), ciphertext)
            other = self.seal(self.message().encode())
            two = f"<xml><Encrypt>{ciphertext}</Encrypt><Encrypt>{other}</Encrypt></xml>".encode()
            yield Probe("aes two Encrypt", params, two)
            bare = f"<xml><ToUserName>{ACCOUNT}</ToUserName></xml>".encode()
            yield Probe("aes no Encrypt", self.encrypted(self.signed(), ""), bare)
            nested = f"<xml><Encrypt><a>{ciphertext}</a></Encrypt></xml>".encode()
            yield Probe("aes nested Encrypt", self.encrypted(self.signed(), ciphertext), nested)

    def _flip(self, good: str) -> str:
        data = bytearray(base64.b64decode(good))
        at = self.rng.randrange(len(data))
        data[at] ^= 1 << self.rng.randrange(8)
        return base64.b64encode(bytes(data)).decode()

    def _lying_length(self) -> str:
        """A well-formed ciphertext whose inner length field points past the end."""
        from wechatpy.crypto.base import WeChatCipher
        from wechatpy.crypto.pkcs7 import PKCS7Encoder

        key = base64.b64decode(AES_KEY + "=")
        length = self.rng.choice((0, 1, 2**31, 2**32 - 1)).to_bytes(4, "big")
        plain = PKCS7Encoder.encode(self.rng.randbytes(16) + length + b"<xml/>" + APPID.encode())
        encrypted: bytes = WeChatCipher(key, key[:16]).encrypt(plain)
        return base64.b64encode(encrypted).decode()

    def probes(self) -> list[Probe]:
        """Every probe, in a shuffled order (so that slow and quick ones mix across the workers)."""
        classes: list[tuple[str, Callable[[], Iterator[bytes]]]] = [
            ("random bytes", self.random_bytes),
            ("truncated", self.truncated),
            ("invalid UTF-8", self.invalid_utf8),
            ("encoding declaration", self.declarations),
            ("deep nesting", self.deep),
            ("entities and DTD", self.entities),
            ("huge fields", self.huge),
            ("duplicate elements", self.duplicates),
            ("CDATA tricks", self.cdata),
            ("control characters", self.control),
            ("empty body", self.empty),
            ("wrong MsgType", self.msg_types),
            ("missing fields", self.missing),
            ("namespaces", self.namespaces),
        ]
        probes = [probe for kind, bodies in classes for body in bodies() for probe in self.delivered(kind, body)]
        probes += self.envelopes()
        for _ in range(150):  # valid messages among them: the engine runs too, and the server stays useful
            probes += self.delivered("valid", self.message().encode())
        self.rng.shuffle(probes)
        return probes


@contextmanager
def fuzz_server(folder: Path) -> Iterator[tuple[str, Path]]:
    """`python -m bot serve` on 127.0.0.1, with an EncodingAESKey and WECHAT_ALLOW_PLAINTEXT=1 so that plaintext
    bodies are parsed too, on a SQLite file in `folder`. Yields the base URL and the file its stderr goes to."""
    port = free_port()
    env = {
        **os.environ,
        "QIANZHU_DB": str(folder / "fuzz.db"),
        "QIANZHU_KEY_SALT": "fuzz-salt",
        "QIANZHU_LOG_LEVEL": "WARNING",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_ALLOW_PLAINTEXT": "1",
    }
    for name in ("WECHAT_APPSECRET", "WECHAT_AES_KEY_PREVIOUS", "TELEGRAM_BOT_TOKEN", "QIANZHU_CONTENT"):
        env.pop(name, None)
    log = folder / "serve.log"
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as err:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(1200):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if server.poll() is not None:
                        raise RuntimeError("qianzhu serve exited: " + log.read_text("utf-8", "replace")) from None
                    time.sleep(0.05)
        yield base, log
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def post_all(base: str, probes: Sequence[Probe], workers: int = 6) -> list[int]:
    """Each probe's status code, in order (-1 where the connection failed), from `workers` threads that each keep
    one connection alive."""
    statuses = [0] * len(probes)
    local = threading.local()

    def run(start: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            local.client = client
            for index in range(start, len(probes), workers):
                statuses[index] = post(client, probes[index])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(workers)))
    return statuses


def post(client: httpx.Client, probe: Probe) -> int:
    try:
        return client.post("/wechat", params=probe.params, content=probe.body).status_code
    except httpx.TransportError:
        return -1
