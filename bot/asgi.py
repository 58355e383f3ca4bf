"""Raw ASGI pieces for the hot webhook paths: the query string, one header, a capped body and a reply.

Starlette's routing, middleware stack and Request object cost more per request than the whole of parsing a
WeChat message; `bot.server` serves the exact paths a channel registers as raw endpoints with these instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Endpoint = Callable[[Scope, Receive, Send], Awaitable[None]]

TEXT = b"text/plain; charset=utf-8"
XML = b"application/xml"


class BodyTooLarge(Exception):
    """The body is over the limit (declared or sent)."""


class BadBody(Exception):
    """The request's Content-Length is not a number, or the client went away before sending the body."""


def query(scope: Scope) -> dict[str, str]:
    """The query parameters, last value winning, as Starlette's `request.query_params` gives them."""
    text: str = scope["query_string"].decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    pairs = (part.partition("=") for part in text.split("&") if part)
    return {name: value for name, _, value in pairs}


def header(scope: Scope, name: bytes) -> str | None:
    """One request header's value (`name` in lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes without buffering them."""
    declared = header(scope, b"content-length")
    if declared is not None and not (declared.isascii() and declared.isdigit() and len(declared) <= 18):
        raise BadBody("bad Content-Length")
    if declared is not None and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()  # appended in place: many small chunks are not copied again and again
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadBody("the client went away")
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge
        if not message.get("more_body"):
            return bytes(body)


async def respond(
    send: Send, status: int, body: bytes, content_type: bytes = TEXT, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    start = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})
