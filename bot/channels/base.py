"""What every channel is (the ``Channel`` protocol) and the one fallback for buttons it cannot show.

A channel turns its platform's updates into ``IncomingMessage`` (and hands them to
``bot.channels.inbound``) and ``Reply`` objects into platform calls (``deliver``, the outlet the
delivery queue sends through). What it can show is in its ``Capabilities``.

Buttons beyond ``Capabilities.max_buttons`` are shown as a list answered by keys: numbers
(1, 2, 3 …), or letters (a, b, c …) when the question expects a number, so that typed digits
stay the answer. The keys run on across the replies of one turn; a channel that answers by
webhook remembers them per user (``remember_keys``) and ``inbound`` reads them back.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.types import Button, IncomingMessage, Reply
from bot.sending.worker import Dispatch
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import PendingChoices


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show in one message."""

    max_text: int  # characters; longer text is split
    max_buttons: int | None = None  # shown as buttons; more become a list answered by keys (None: no limit)
    images: bool = True  # sent as images (else as a link or a path in the text)
    documents: bool = True  # sent as files (else as a link or a path in the text)


class Channel(Protocol):
    """One platform adapter, built once by ``bot.channels.registry``."""

    name: str  # the ``channel`` of its messages and of its rows in the delivery queue
    capabilities: Capabilities

    async def start(self) -> None:
        """Connect to the platform (after the database is ready)."""

    async def stop(self) -> None:
        """Finish what is in flight and let go of the platform."""

    async def deliver(self, user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        """Send replies to a user: an ``Outlet`` of the delivery queue, returning its outcome
        (sent, failed, skipped, hold; an exception: retry later)."""


# -- buttons shown as a list answered by keys --------------------------------------------------
KeyedRow = tuple[tuple[str, Button], ...]


@dataclass(frozen=True, slots=True)
class Shown:
    """One reply as the channel shows it: its buttons as buttons, or (``rows``) with keys."""

    reply: Reply
    rows: tuple[KeyedRow, ...] = ()  # the buttons with their keys, row by row; () when shown as buttons

    @property
    def buttons(self) -> list[Button]:
        """The buttons shown as buttons."""
        return [] if self.rows else [b for row in self.reply.buttons for b in row]

    def lines(self) -> list[str]:
        """The list as lines «1. Nhãn» (or «a. Nhãn»)."""
        return [f"{key}. {button.text}" for row in self.rows for key, button in row]


@dataclass(frozen=True, slots=True)
class Keyed:
    """The replies of one turn, with key → button payload for every button shown in a list."""

    replies: tuple[Shown, ...]
    keys: dict[str, str]
    letters: bool  # the keys are letters: the question expects a number


def _keys(count: int, *, letters: bool) -> list[str]:
    if letters:
        return list(string.ascii_lowercase[:count])
    return [str(i) for i in range(1, count + 1)]


def keyed(replies: Sequence[Reply], capabilities: Capabilities) -> Keyed:
    """Key the buttons of every reply with more of them than the channel shows."""
    limit = capabilities.max_buttons
    listed = [limit is not None and sum(map(len, r.buttons)) > limit for r in replies]
    letters = any(r.expects_number for r in replies)
    count = sum(sum(map(len, r.buttons)) for r, on in zip(replies, listed, strict=True) if on)
    keys = iter(_keys(count, letters=letters))
    shown = tuple(Shown(r, tuple(tuple((next(keys), b) for b in row) for row in r.buttons) if on else ())
                  for r, on in zip(replies, listed, strict=True))
    return Keyed(shown, {k: b.data for s in shown for row in s.rows for k, b in row}, letters)


def pressed(message: IncomingMessage, keys: dict[str, str]) -> IncomingMessage:
    """The message, or the button it stands for when its text is a key («2», «b», «b.»)."""
    if message.text is None:
        return message
    payload = keys.get(message.text.strip().lower().rstrip(".)"))
    return message if payload is None else replace(message, text=None, button=payload)


def remember_keys(sessions: sessionmaker[Session], *, channel: str, user_id: str, keys: dict[str, str]) -> None:
    """Keep the keys of the list just shown to a user (none: forget the last ones)."""
    with unit_of_work(sessions) as session:
        row = session.get(PendingChoices, (channel, user_id))
        if not keys:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(PendingChoices(channel=channel, user_id=user_id, payloads={"keys": keys}))
        else:
            row.payloads, row.updated_at = {"keys": keys}, utcnow()


def recall_keys(sessions: sessionmaker[Session], *, channel: str, user_id: str) -> dict[str, str]:
    """The keys of the list last shown to a user (empty when none)."""
    with sessions() as session:
        row = session.get(PendingChoices, (channel, user_id))
        if row is None:
            return {}
        if "keys" in row.payloads:
            return dict(row.payloads["keys"])
        return {str(i): p for i, p in enumerate(row.payloads.get("buttons", []), start=1)}  # stored before keys
