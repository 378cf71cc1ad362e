"""HTTP chat API used by the web chat page and end-to-end tests: ``POST /api/chat``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.concurrency import run_in_threadpool

from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import Runtime

CHANNEL = "web"
UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: UserId
    text: str | None = Field(default=None, max_length=4000)
    button: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)

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


class ChatResponse(BaseModel):
    replies: list[ReplyOut]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    cards: int


def _out(reply: Reply) -> ReplyOut:
    return ReplyOut.model_validate(reply.to_dict())


def chat_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=True)
    async def chat(body: ChatRequest, request: Request) -> ChatResponse:
        runtime: Runtime = request.app.state.runtime
        message = IncomingMessage(
            channel=CHANNEL, user_id=body.user, text=body.text, button=body.button, display_name=body.name
        )
        replies = await run_in_threadpool(runtime.handle, message)
        return ChatResponse(replies=[_out(r) for r in replies])

    return router
