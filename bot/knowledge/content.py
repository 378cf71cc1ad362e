"""The bot's read-only services, built once from the settings and the content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.decision import Thresholds
from bot.knowledge.library import Library, load_checked
from bot.knowledge.messages import Messages
from bot.knowledge.search import SearchIndex, load_thresholds
from bot.services.learned import LiveIndex
from bot.settings import Settings
from reporting import consistency


@dataclass(frozen=True)
class BotServices:
    settings: Settings
    library: Library
    index: LiveIndex
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


def build_services(settings: Settings) -> BotServices:
    """Load and validate the content (refusing bad content) and build the search index."""
    library = load_checked(settings.content_dir, allow_missing_catalogue=True)
    consistency.check()  # the plans, forms and indicators are data too: refuse to start when they disagree
    return BotServices(
        settings=settings,
        library=library,
        index=LiveIndex(build_index(library, settings)),
        messages=Messages(library.messages),
    )
