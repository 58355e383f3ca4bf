"""The few WeChat API calls the bot makes (customer-service text, menu), with a cached access token."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx
from pydantic import SecretStr

from bot.core.errors import QianzhuError

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid, malformed, expired: fetch a new token once
REFRESH_EARLY = 300.0  # seconds before the stated expiry that a token is renewed
_SECRET_PARAMS = re.compile(r"((?:access_token|secret)=)[^&\s\"']*")


class WeChatApiError(QianzhuError):
    """WeChat's API refused a call (errcode) or could not be reached. The message holds no secrets."""

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


def _errcode(data: dict[str, Any]) -> int:
    code = data.get("errcode", 0)
    try:
        return int(code or 0)
    except (TypeError, ValueError):
        return -1


class _RedactSecrets(logging.Filter):
    """httpx logs each request's URL at INFO; the token and the app secret travel in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message or "secret=" in message:
            record.msg, record.args = _SECRET_PARAMS.sub(r"\1***", message), ()
        return True


logging.getLogger("httpx").addFilter(_RedactSecrets())


class WeChatApi:
    """An async client for `{base}/cgi-bin/...`: one token for all callers, refreshed once when it goes stale."""

    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: SecretStr,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh = asyncio.Lock()

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service (客服) text message to one user."""
        message = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self.call("/cgi-bin/message/custom/send", message)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("/cgi-bin/menu/create", menu)

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POSTs JSON with the access token; a token WeChat calls stale is replaced and the call made again."""
        token = await self.access_token()
        body = json.dumps(payload, ensure_ascii=False).encode()  # WeChat shows \\u escapes literally
        data = await self._request("POST", path, params={"access_token": token}, content=body)
        if _errcode(data) in TOKEN_ERRORS:
            token = await self.access_token(stale=token)
            data = await self._request("POST", path, params={"access_token": token}, content=body)
        code = _errcode(data)
        if code != 0:
            raise WeChatApiError(f"{path}: errcode {code}: {data.get('errmsg', '')}", code)
        return data

    async def access_token(self, stale: str | None = None) -> str:
        """The cached token; a new one when it is about to expire or equals `stale` (rejected by WeChat)."""
        async with self._refresh:  # concurrent callers share one fetch
            if self._token is not None and self._token != stale and time.monotonic() < self._expires_at:
                return self._token
            secret = self._secret.get_secret_value()
            params = {"grant_type": "client_credential", "appid": self._appid, "secret": secret}
            data = await self._request("GET", "/cgi-bin/token", params=params)
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                code = _errcode(data)
                raise WeChatApiError(f"/cgi-bin/token: errcode {code}: {data.get('errmsg', '')}", code)
            lifetime = float(data.get("expires_in") or 7200)
            self._token, self._expires_at = token, time.monotonic() + max(lifetime - REFRESH_EARLY, lifetime / 2)
            return token

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self._base, timeout=self._timeout, transport=self._transport)
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # its text never holds the URL, so no token leaks into messages
            raise WeChatApiError(f"{path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise WeChatApiError(f"{path}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise WeChatApiError(f"{path}: the answer is not JSON") from exc
        if not isinstance(data, dict):
            raise WeChatApiError(f"{path}: the answer is not a JSON object")
        return data
