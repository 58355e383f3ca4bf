"""A fake of WeChat's API (token, customer-service send, menu create) to serve on 127.0.0.1 in tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.servers import serving
from tests.wechat_kit import APPID, SECRET


@dataclass
class FakeWeChatApi:
    """Issues tokens tok-1, tok-2, ...; `expire()` makes the current one stale as WeChat's 42001 does."""

    token_fetches: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)
    stale_code: int = 42001
    refuse_menu: dict[str, Any] | None = None  # e.g. {"errcode": 40018, "errmsg": "invalid button name size"}
    _current: str | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def expire(self, code: int = 42001) -> None:
        self._current, self.stale_code = None, code

    async def wait_for_send(self, count: int = 1, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def _token(self, request: Request) -> Response:
        query = request.query_params
        if query.get("grant_type") != "client_credential" or query.get("appid") != APPID:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != SECRET:
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_fetches += 1
        self._current = f"tok-{self.token_fetches}"
        return JSONResponse({"access_token": self._current, "expires_in": 7200})

    def _stale(self, request: Request) -> Response | None:
        if self._current is None or request.query_params.get("access_token") != self._current:
            return JSONResponse({"errcode": self.stale_code, "errmsg": "access_token expired"})
        return None

    async def _send(self, request: Request) -> Response:
        stale = self._stale(request)
        if stale is not None:
            return stale
        body = await request.body()
        self.raw_bodies.append(body)
        self.sent.append(json.loads(body))
        self._arrived.set()
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def _menu(self, request: Request) -> Response:
        stale = self._stale(request)
        if stale is not None:
            return stale
        if self.refuse_menu is not None:
            return JSONResponse(self.refuse_menu)
        body = await request.body()
        self.raw_bodies.append(body)
        self.menus.append(json.loads(body))
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._send, methods=["POST"]),
                Route("/cgi-bin/menu/create", self._menu, methods=["POST"]),
            ]
        )


@asynccontextmanager
async def fake_wechat_api() -> AsyncIterator[tuple[FakeWeChatApi, str]]:
    """The fake and its base URL (what WECHAT_API_BASE_URL would be)."""
    fake = FakeWeChatApi()
    async with serving(fake.app(), access_log=False) as base:
        yield fake, base
