"""The web chat: ``POST /api/chat`` answers in the request (the chat page and end-to-end tests
use it); later messages wait in the web outbox until the page fetches them. Who is talking comes
from the browser's secret cookie (``web_identity``), never from the request body or the URL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from bot.channels import web_identity
from bot.channels.base import Capabilities
from bot.conversation.split import MAX_MESSAGE_CHARS
from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import Runtime
from bot.sending import web_outbox
from bot.sending.worker import Dispatch, web_outlet
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"

CHANNEL = web_identity.CHANNEL
NO_SECRET = "Chưa có phiên trò chuyện: tải lại trang chat."
# lone surrogates (not text: PostgreSQL and UTF-8 refuse them), NUL and the other control
# characters; a line break and a tab stay in a message
_UNTYPABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNTYPABLE_IN_NAME = re.compile(r"[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=4000)
    button: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        """Before pydantic looks (it answers a lone surrogate with a 422 that echoes it, and the
        echo cannot be encoded): untypable characters leave keys, names and buttons; a message
        keeps its line breaks and tabs."""
        if not isinstance(data, dict):
            return data
        cleaned: dict[Any, Any] = {}
        for key, value in data.items():
            key = _UNTYPABLE_IN_NAME.sub("", key) if isinstance(key, str) else key
            if isinstance(value, str):
                value = _UNTYPABLE.sub("", value) if key == "text" else _UNTYPABLE_IN_NAME.sub("", value).strip()
            cleaned[key] = value
        if cleaned.get("name") == "":
            cleaned["name"] = None
        return cleaned

    @model_validator(mode="after")
    def _one_of(self) -> ChatRequest:
        if (self.text is None) == (self.button is None):
            raise ValueError("send exactly one of 'text' or 'button'")
        return self


class ButtonOut(BaseModel):
    text: str
    data: str


class ReplyOut(BaseModel):
    text: str
    buttons: list[list[ButtonOut]] = []
    image: str | None = None
    document: str | None = None
    expects_number: bool = False  # the open question wants a number typed


class ChatResponse(BaseModel):
    replies: list[ReplyOut]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    cards: int
    # Zalo enabled: "needs_reauth" when Zalo refused the stored refresh token (messages are held
    # until an admin stores a new pair with `agribot zalo token`)
    zalo: Literal["ok", "needs_reauth"] | None = None


def _out(reply: Reply) -> ReplyOut:
    return ReplyOut.model_validate(reply.to_dict())


class WebChannel:
    name = CHANNEL
    # the page shows every button, images and document links; long replies are split by the router
    capabilities = Capabilities(max_text=MAX_MESSAGE_CHARS)

    @staticmethod
    def enabled(settings: Settings) -> bool:
        return True

    @staticmethod
    def router() -> APIRouter:
        return chat_router()

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self._outlet = web_outlet(runtime)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        """Into the web outbox, where ``GET /api/chat/updates`` finds them."""
        return await self._outlet(user_id, replies, dispatch)


def chat_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=True)
    async def chat(body: ChatRequest, request: Request, response: Response) -> ChatResponse:
        """One message from this browser; a browser without a secret cookie is given one here."""
        runtime: Runtime = request.app.state.runtime
        secret = web_identity.secret_of(request) or web_identity.new_secret()
        web_identity.keep(request, response, secret)
        message = IncomingMessage(channel=CHANNEL, user_id=web_identity.user_id(secret), text=body.text,
                                  button=body.button, display_name=body.name,
                                  client_address=request.client.host if request.client else None)
        replies = await run_in_threadpool(runtime.handle, message)
        return ChatResponse(replies=[_out(r) for r in replies])

    @router.get("/api/chat/updates", response_model=ChatResponse, response_model_exclude_none=True,
                responses={401: {"description": "no chat secret cookie"}})
    async def updates(request: Request) -> ChatResponse:
        """Messages sent to this browser's web user since the last call (and now marked delivered)."""
        runtime: Runtime = request.app.state.runtime
        user = web_identity.current_user(request)
        if user is None:
            raise HTTPException(401, NO_SECRET)

        def fetch() -> list[dict[str, Any]]:
            with unit_of_work(runtime.sessions) as session:
                return web_outbox.pull(session, user_id=user, now=utcnow())

        payloads = await run_in_threadpool(fetch)
        return ChatResponse(replies=[ReplyOut.model_validate(p) for p in payloads])

    @router.get("/", include_in_schema=False)
    async def page(request: Request) -> FileResponse:
        """The chat page; a new browser gets its secret cookie with it."""
        response = FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
        web_identity.keep(request, response, web_identity.secret_of(request) or web_identity.new_secret())
        return response

    return router
