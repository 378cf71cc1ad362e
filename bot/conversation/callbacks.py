"""Callback data of every button, built and read here and nowhere else.

The wire form is ``<prefix>[:<part>…]`` (``rpt:pick:12:straw_use:burn``): the prefix picks the
handler, the first part is the action, the rest are its arguments. Telegram carries at most 64
bytes, so :func:`build` refuses anything longer rather than let a button fail on one channel
only. The data comes back from the client and may be forged: :class:`Callback` only splits it;
handlers check each part (:meth:`Callback.number` takes ASCII digits only) against the
conversation before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.conversation import ids

MAX_BYTES = 64  # Telegram's limit for callback_data
SEPARATOR = ":"


class Prefix(StrEnum):
    """The button families; each is routed to one handler (``router.button(Prefix.X)``)."""

    MENU = "menu"
    ASK = "ask"
    HELP = "help"
    OFFICER = "officer"  # «Hỏi cán bộ khuyến nông»
    TOPIC = "topic"
    CARD = "card"
    FULL = "full"  # «Xem đầy đủ»
    FEEDBACK = "fb"
    SUBSCRIBE = "sub"
    SUBSCRIBE_COMMUNE = "subc"
    HANDOVER = "ho"
    BROADCAST = "bc"
    REPORT = "rpt"
    INDICATORS = "ind"


def build(prefix: Prefix, *parts: str | int) -> str:
    """``build(Prefix.REPORT, "form", "training")`` → ``"rpt:form:training"``."""
    texts = [str(p) for p in parts]
    if any(SEPARATOR in t for t in texts[:-1]):
        raise ValueError(f"callback part holds {SEPARATOR!r}: {texts}")
    data = SEPARATOR.join([prefix.value, *texts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


@dataclass(frozen=True)
class Callback:
    """A button's data as it came back: the prefix and the parts after it."""

    prefix: str
    parts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: str) -> Callback:
        prefix, _, rest = data.partition(SEPARATOR)
        return cls(prefix, tuple(rest.split(SEPARATOR)) if rest else ())

    @property
    def action(self) -> str:
        return self.text(0)

    def text(self, index: int) -> str:
        """The part at ``index`` ("" when the button has fewer parts)."""
        return self.parts[index] if 0 <= index < len(self.parts) else ""

    def number(self, index: int) -> int | None:
        """The part at ``index`` as an id: ASCII digits only, else None."""
        return ids.number(self.text(index)) if index < len(self.parts) else None

    def rest(self, index: int) -> str:
        """The parts from ``index`` on, as they were sent (for a value that may hold the separator)."""
        return SEPARATOR.join(self.parts[index:])
