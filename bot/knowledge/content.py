"""The bot's read-only services: the content, its search index and the messages.

``bot.runtime.build_services`` builds them once from the settings; the index it puts here is
kept fresh with the questions editors attach (``bot.services.learned.LiveIndex``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from bot.knowledge.decision import Thresholds
from bot.knowledge.library import Library, load_checked
from bot.knowledge.messages import Messages
from bot.knowledge.search import SearchIndex, SearchResult, load_thresholds
from bot.settings import Settings
from reporting import consistency


class LiveSearch(Protocol):
    """A search index that follows the database (the questions editors attach)."""

    current: SearchIndex

    def refresh(self, session: Session, *, force: bool = False) -> SearchIndex: ...

    def search_many(self, questions: Sequence[str]) -> list[SearchResult]: ...


@dataclass(frozen=True)
class BotServices:
    settings: Settings
    library: Library
    index: LiveSearch
    messages: Messages


def build_index(library: Library, settings: Settings) -> SearchIndex:
    fitted = load_thresholds(library.root)
    thresholds = Thresholds(
        answer=fitted.answer if settings.answer_threshold is None else settings.answer_threshold,
        margin=fitted.margin if settings.answer_margin is None else settings.answer_margin,
        offer=fitted.offer if settings.offer_threshold is None else settings.offer_threshold,
    )
    return _cached_index(library, thresholds, _content_signature(library.root))


def _content_signature(root: Path) -> tuple[str, float, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return str(root.resolve()), max((p.stat().st_mtime for p in files), default=0.0), len(files)


_INDEXES: dict[tuple[object, ...], SearchIndex] = {}


def _cached_index(library: Library, thresholds: Thresholds, signature: tuple[str, float, int]) -> SearchIndex:
    """One index per content (and thresholds) in a process: several runtimes share it."""
    key = (signature, thresholds)
    if key not in _INDEXES:
        _INDEXES.clear()
        _INDEXES[key] = SearchIndex(library, thresholds=thresholds)
    return _INDEXES[key]


def load_library(settings: Settings) -> Library:
    """Load and validate the content (refusing bad content) and check plans, forms and indicators."""
    library = load_checked(settings.content_dir, allow_missing_catalogue=True)
    consistency.check()  # the plans, forms and indicators are data too: refuse to start when they disagree
    return library
