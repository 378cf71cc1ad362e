"""Routes one incoming message to a handler: by command, by button, by state, else free text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.conversation import state as state_service
from bot.conversation.callbacks import Callback
from bot.conversation.split import split_reply
from bot.conversation.state import StateRecord
from bot.conversation.types import IncomingMessage, Reply

if TYPE_CHECKING:
    from bot.knowledge.content import BotServices

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # longer questions are cut (a farmer's story fits easily)


@dataclass
class Context:
    """What a handler sees: the message, the user's state, the services and one DB session."""

    session: Session
    message: IncomingMessage
    state: StateRecord
    services: BotServices
    args: str = ""  # text after a command, or after the button prefix
    callback: Callback = field(default_factory=lambda: Callback(""))  # the button pressed, split
    notes: list[str] = field(default_factory=list)

    def t(self, key: str, **values: object) -> str:
        return self.services.messages(key, **values)


Handler = Callable[[Context], list[Reply]]


class Router:
    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.commands: dict[str, Handler] = {}
        self.buttons: dict[str, Handler] = {}
        self.states: dict[str, Handler] = {}
        self.text: Handler | None = None
        self.media: Handler | None = None
        self.unknown_button: Handler | None = None
        self.unknown_command: Handler | None = None

    # -- registration ------------------------------------------------------------------
    def command(self, *names: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            for name in names:
                self.commands[name] = fn
            return fn

        return add

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self.buttons[prefix] = fn
            return fn

        return add

    def state(self, name: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self.states[name] = fn
            return fn

        return add

    # -- dispatch ----------------------------------------------------------------------
    def _pick(self, msg: IncomingMessage, record: StateRecord) -> tuple[Handler | None, str]:
        if msg.button is not None:
            callback = Callback.parse(msg.button)
            return self.buttons.get(callback.prefix, self.unknown_button), callback.rest(0)
        if msg.media is not None:
            return self.media, ""
        text = (msg.text or "").strip()
        if text.startswith("/"):
            head, _, rest = text[1:].partition(" ")
            name = head.split("@", 1)[0].lower()
            return self.commands.get(name, self.unknown_command), rest.strip()
        if record.name in self.states:
            return self.states[record.name], text
        return self.text, text

    def handle(self, session: Session, msg: IncomingMessage) -> list[Reply]:
        """Handle one message inside the caller's session; the caller commits once."""
        if msg.text is not None and len(msg.text) > MAX_TEXT_CHARS:
            msg = IncomingMessage(
                channel=msg.channel, user_id=msg.user_id, text=msg.text[:MAX_TEXT_CHARS],
                message_id=msg.message_id, display_name=msg.display_name, at=msg.at,
            )
        state_service.touch_user(
            session, channel=msg.channel, user_id=msg.user_id, display_name=msg.display_name
        )
        record = state_service.get(session, channel=msg.channel, user_id=msg.user_id)
        handler, args = self._pick(msg, record)
        if handler is None:
            raise RuntimeError("router has no handler for this message; register the handlers")
        ctx = Context(session=session, message=msg, state=record, services=self.services, args=args,
                      callback=Callback.parse(msg.button) if msg.button is not None else Callback(""))
        replies = handler(ctx)
        state_service.save(session, channel=msg.channel, user_id=msg.user_id, record=ctx.state)
        return [part for reply in replies for part in split_reply(reply)]
