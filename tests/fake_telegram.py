"""A fake Telegram Bot API at the network boundary: in process (a PTB BaseRequest) or over HTTP (Starlette).

It answers getMe, getUpdates, sendMessage, answerCallbackQuery, setMyCommands and the rest from memory and
records every call. Failures can be queued per method as the HTTP answers Telegram gives (429, 403, 400, 502).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram.request import BaseRequest, RequestData

Json = dict[str, Any]
TOKEN = "123456:TEST-token-never-logged"
BOT: Json = {"id": 777000, "is_bot": True, "first_name": "签注助手", "username": "qianzhu_test_bot"}
USER: Json = {"id": 42, "is_bot": False, "first_name": "张三", "language_code": "zh-hans"}
OTHER: Json = {"id": 43, "is_bot": False, "first_name": "李四"}
GROUP: Json = {"id": -1001234, "type": "supergroup", "title": "租房群"}
DATE = 1_795_000_000
# Parameters PTB sends JSON-encoded; every other one arrives as a plain string.
JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "commands", "allowed_updates"}


def private(user: Json = USER) -> Json:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


class FakeBotApi:
    """The Bot API's behaviour; `calls` holds (method, parameters) in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Json]] = []
        self.failures: dict[str, list[tuple[int, Json]]] = {}
        self.on_call: Callable[[str, Json], None] | None = None  # runs after a call was recorded
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self._arrived = asyncio.Event()

    # -- what tests use ------------------------------------------------------------------------------------

    def push(self, update: Json) -> Json:
        """Queues an update for getUpdates, numbering it."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._arrived.set()
        return update

    def fail(self, method: str, *answers: tuple[int, Json]) -> None:
        """The next calls of `method` get these HTTP answers instead of success."""
        self.failures.setdefault(method, []).extend(answers)

    def called(self, method: str) -> list[Json]:
        return [params for name, params in self.calls if name == method]

    def sent(self) -> list[str]:
        return [str(params["text"]) for params in self.called("sendMessage")]

    def buttons(self, index: int = -1) -> list[tuple[str, str]]:
        """(label, callback data) of every button under the `index`th sent message."""
        markup = self.called("sendMessage")[index].get("reply_markup") or {"inline_keyboard": []}
        return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]

    # -- what PTB talks to ---------------------------------------------------------------------------------

    async def handle(self, method: str, params: Json) -> tuple[int, Json]:
        if method != "getUpdates":
            self.calls.append((method, params))
            if self.on_call is not None:
                self.on_call(method, params)
        queued = self.failures.get(method)
        if queued:
            return queued.pop(0)
        if method == "getUpdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        return 200, {"ok": True, "result": self._result(method, params)}

    def _result(self, method: str, params: Json) -> Any:
        if method == "getMe":
            return BOT
        if method in ("sendMessage", "sendDocument", "editMessageReplyMarkup", "editMessageText"):
            chat_id = int(params.get("chat_id") or USER["id"])
            chat = private() if chat_id > 0 else GROUP
            message_id = int(params.get("message_id") or next(self._message_ids))
            if method in ("sendMessage", "sendDocument") and params.get("reply_markup"):
                KEYBOARDS[chat_id] = {
                    "message_id": message_id,
                    "text": params.get("text") or params.get("caption", ""),
                    "reply_markup": params["reply_markup"],
                }
            return {"message_id": message_id, "date": DATE, "chat": chat, "from": BOT, "text": params.get("text", "")}
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True  # answerCallbackQuery, setMyCommands, deleteWebhook, setWebhook, …

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]  # the offset confirms older ones
        if not self._updates:
            self._arrived.clear()
            wait = min(float(params.get("timeout") or 0), 0.5)
            if wait > 0:
                try:
                    await asyncio.wait_for(self._arrived.wait(), wait)
                except TimeoutError:
                    return []
        return list(self._updates)


def decode(fields: dict[str, str]) -> Json:
    return {name: json.loads(value) if name in JSON_FIELDS else value for name, value in fields.items()}


class FakeRequest(BaseRequest):
    """PTB's documented networking extension point, answering from a FakeBotApi instead of the network."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.urls: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.urls.append(url)
        params = decode(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.multipart_data:  # files: {field: (name, bytes, type)}
            params["_files"] = {
                field: (value[0], value[1]) for field, value in request_data.multipart_data.items() if len(value) >= 2
            }
        status, body = await self.api.handle(url.rsplit("/", 1)[-1], params)
        return status, json.dumps(body).encode()


def fake_api_app(api: FakeBotApi, token: str = TOKEN) -> Starlette:
    """The same fake over HTTP, at /bot<token>/<method>, as api.telegram.org lays it out."""

    async def endpoint(request: Request) -> Response:
        if request.path_params["token"] != token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        body = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body or "{}").items()}
        else:
            fields = dict(parse_qsl(body, keep_blank_values=True))
        status, answer = await api.handle(request.path_params["method"], decode(fields))
        return JSONResponse(answer, status)

    return Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["GET", "POST"])])


# -- updates, as Telegram sends them ---------------------------------------------------------------------------

_ids = itertools.count(1)


def message(
    text: str | None = None,
    user: Json = USER,
    chat: Json | None = None,
    reply_to_bot: bool = False,
    **extra: Any,
) -> Json:
    body: Json = {"message_id": next(_ids), "date": DATE, "chat": chat or private(user), "from": user, **extra}
    if text is not None:
        body["text"] = text
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        at = text.lower().find(f"@{BOT['username']}")
        if at > 0 or (at == 0 and not text.startswith("/")):
            entities.append({"type": "mention", "offset": at, "length": len(BOT["username"]) + 1})
        if entities:
            body["entities"] = entities
    if reply_to_bot:
        body["reply_to_message"] = {"message_id": 1, "date": DATE, "chat": body["chat"], "from": BOT, "text": "?"}
    return {"message": body}


# chat id -> the newest message sent there with buttons (id, text, keyboard): a press comes from that message, as
# Telegram sends it back in the callback query, unless a test names another message id
KEYBOARDS: dict[int, Json] = {}


def button(data: str, user: Json = USER, chat: Json | None = None, message_id: int | None = None) -> Json:
    where = chat or private(user)
    newest = KEYBOARDS.get(int(where["id"]), {"message_id": 1, "text": "…"})
    if message_id is not None and message_id != newest["message_id"]:
        newest = {"message_id": message_id, "text": "…"}
    shown = {"date": DATE, "chat": where, "from": BOT, **newest}
    return {
        "callback_query": {"id": str(next(_ids)), "from": user, "chat_instance": "1", "message": shown, "data": data}
    }


def sticker(user: Json = USER, chat: Json | None = None, reply_to_bot: bool = False) -> Json:
    item = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512}
    return message(None, user, chat, reply_to_bot, sticker={**item, "is_animated": False, "is_video": False})


def photo(user: Json = USER) -> Json:
    return message(None, user, photo=[{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}])


def voice(user: Json = USER) -> Json:
    return message(None, user, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})


def location(user: Json = USER) -> Json:
    return message(None, user, location={"latitude": 31.23, "longitude": 121.47})
