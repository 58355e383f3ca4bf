"""The raw ASGI helpers behind /wechat: query strings as Starlette reads them, and a capped body."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import QueryParams

from bot.asgi import BadBody, BodyTooLarge, Message, query, read_body


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"signature=abc&timestamp=1795000000&nonce=42",
        b"a=1&a=2&b",
        b"&&a=&=x&b=c=d",
        b"echostr=%E4%BD%A0%E5%A5%BD&x=a+b&y=%2B",
        b"name=\xe4\xbd\xa0",  # raw UTF-8 bytes, read as Latin-1 like Starlette does
    ],
)
def test_query_reads_what_starlette_reads(raw: bytes) -> None:
    assert query({"query_string": raw}) == dict(QueryParams(raw.decode("latin-1")))


def receiver(*messages: Message) -> Any:
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0)

    return receive


def scope(length: str | None = None) -> dict[str, Any]:
    headers = [] if length is None else [(b"content-length", length.encode())]
    return {"headers": headers}


async def test_read_body_joins_chunks() -> None:
    receive = receiver(
        {"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"c"}
    )
    assert await read_body(scope(), receive, limit=3) == b"abc"


async def test_read_body_refuses_more_than_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        await read_body(scope("4"), receiver(), limit=3)  # declared: nothing is read
    chunks = [{"type": "http.request", "body": b"xx", "more_body": True}] * 3
    with pytest.raises(BodyTooLarge):
        await read_body(scope(), receiver(*chunks), limit=3)


async def test_read_body_refuses_a_bad_length_and_a_client_that_left() -> None:
    with pytest.raises(BadBody, match="Content-Length"):
        await read_body(scope("-1"), receiver(), limit=3)
    with pytest.raises(BadBody, match="went away"):
        await read_body(scope(), receiver({"type": "http.disconnect"}), limit=3)
