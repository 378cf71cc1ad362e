"""The internal message types every channel converts to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.storage.db import utcnow

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback data, the tightest of our channels


class MediaKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One thing a user did: typed text, pressed a button, or sent media."""

    channel: str
    user_id: str
    text: str | None = None
    button: str | None = None
    media: MediaKind | None = None
    message_id: str | None = None
    display_name: str | None = None
    media_ref: str | None = None  # platform file id, or "lat,lon" for a location
    caption: str | None = None
    at: datetime = field(default_factory=utcnow)
    client_address: str | None = None  # the web chat's client IP (invite tries are limited per address)

    def __post_init__(self) -> None:
        if not self.channel or not self.user_id:
            raise ValueError("a message needs a channel and a user id")
        if sum(x is not None for x in (self.text, self.button, self.media)) != 1:
            raise ValueError("a message carries exactly one of text, button or media")


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            raise ValueError(f"button data over {MAX_CALLBACK_BYTES} bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says: text, rows of buttons, optionally an image or a document."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: str | None = None
    document: str | None = None
    # the question wants a number: typed digits are the answer, so channels that number their
    # buttons (Zalo's list, the console) use letters instead (bot.channels.base)
    expects_number: bool = False

    @staticmethod
    def with_rows(text: str, rows: list[list[Button]]) -> Reply:
        return Reply(text=text, buttons=tuple(tuple(row) for row in rows if row))

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "text": self.text,
            "buttons": [[{"text": b.text, "data": b.data} for b in row] for row in self.buttons],
        }
        if self.image:
            out["image"] = self.image
        if self.document:
            out["document"] = self.document
        if self.expects_number:
            out["expects_number"] = True
        return out
