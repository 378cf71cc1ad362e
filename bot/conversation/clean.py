"""The one place where what a user typed is made safe for the database, for every channel.

Text (a message, a caption, a display name) is cleaned: lone surrogates, NUL and other control
characters are removed (newlines and tabs are kept). An identifier (a user id, a message id, a
button's data) is refused instead: it names something, so it is not silently changed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.conversation.types import IncomingMessage

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates and non-characters
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNSAFE_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
MAX_ID_CHARS = 128


class BadInput(ValueError):
    """An identifier that cannot be stored; the edge answers 400 (never echoing it)."""


def clean_text(value: str | None) -> str | None:
    """``value`` without control characters, lone surrogates and non-characters (None stays None)."""
    if value is None:
        return None
    return _UNSAFE_TEXT.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def check_id(value: str, *, what: str) -> str:
    """``value`` itself when it is a storable identifier; else ``BadInput`` naming only ``what``."""
    if not value or len(value) > MAX_ID_CHARS or _UNSAFE_ID.search(value):
        raise BadInput(f"unusable {what}")
    return value


def clean_message(message: IncomingMessage) -> IncomingMessage:
    """The message with its texts cleaned and its identifiers checked (``BadInput`` if unusable)."""
    check_id(message.channel, what="channel")
    check_id(message.user_id, what="user id")
    if message.message_id is not None:
        check_id(message.message_id, what="message id")
    button = message.button
    if button is not None:
        button = clean_text(button) or "?"
    name = clean_text(message.display_name)
    return replace(message, text=clean_text(message.text), button=button, display_name=(name or None) and name[:200],
                   caption=clean_text(message.caption), media_ref=clean_text(message.media_ref))
