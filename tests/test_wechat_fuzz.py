"""Fuzz: thousands of hostile /wechat requests against a real `qianzhu serve` on 127.0.0.1, signed and unsigned,
plaintext and encrypted. No response may be a 500 and the server's log may hold no traceback and no ERROR."""

from __future__ import annotations

import collections
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.wechat_corpus import FIELDS, MODES, Corpus, fuzz_server, post, post_all

EXTRA_FIELDS = ("Event", "EventKey", "Recognition", "Encrypt", "PicUrl", "MediaId", "Location_X", "Url")


@st.composite
def bodies(draw: st.DrawFn, corpus: Corpus) -> tuple[str, bytes]:
    """A mode and an XML body: raw bytes, a text message with any Unicode Content, or arbitrary fields."""
    mode = draw(st.sampled_from(MODES))
    shape = draw(st.sampled_from(("bytes", "content", "fields", "bytes in xml")))
    if shape == "bytes":
        return mode, draw(st.binary(max_size=1024))
    if shape == "bytes in xml":
        return mode, corpus.message("@").encode().replace(b"@", draw(st.binary(min_size=1, max_size=256)))
    if shape == "content":
        text = draw(st.text(max_size=400))
        plain = corpus.fields(Content=escape(text)) if draw(st.booleans()) else corpus.message(text)
        return mode, plain.encode("utf-8", "surrogatepass")
    values = draw(
        st.dictionaries(st.sampled_from(FIELDS + EXTRA_FIELDS), st.text(max_size=40).map(escape), max_size=len(FIELDS))
    )
    body = "<xml>" + "".join(f"<{name}>{value}</{name}>" for name, value in values.items()) + "</xml>"
    return mode, body.encode("utf-8", "surrogatepass")


@pytest.mark.slow
def test_no_input_gets_a_500_or_a_traceback(tmp_path: Path) -> None:
    corpus = Corpus()
    probes = corpus.probes()
    counts: collections.Counter[int] = collections.Counter()
    with fuzz_server(tmp_path) as (base, log):
        statuses = post_all(base, probes)
        counts.update(statuses)
        failed = collections.Counter(p.kind for p, s in zip(probes, statuses, strict=True) if s in (500, -1))
        assert not failed, f"500 or a dropped connection from: {failed}"

        with httpx.Client(base_url=base, timeout=30) as client:

            @settings(
                max_examples=1000,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(bodies(corpus))
            def arbitrary(delivery: tuple[str, bytes]) -> None:
                mode, xml = delivery
                status = post(client, corpus.deliver("hypothesis", mode, xml))
                counts[status] += 1
                assert status not in (500, -1), (mode, xml)

            arbitrary()
            assert client.get("/healthz").status_code == 200  # still serving after all of it
    written = log.read_text("utf-8", "replace")
    total = sum(counts.values())
    print(f"\nwechat fuzz: {total} requests to qianzhu serve, by status: {dict(sorted(counts.items()))}")
    assert total >= 5000
    assert counts[500] == 0
    assert "Traceback" not in written, written[-3000:]
    assert "ERROR" not in written, written[-3000:]
