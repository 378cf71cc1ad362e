"""The bot's read-only services, built once from the settings and the content."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.library import Library, load_checked
from bot.knowledge.search import SearchIndex
from bot.knowledge.smalltalk import SmallTalkMatcher
from bot.messages import Messages
from bot.settings import Settings
from reporting.forms import load_forms
from reporting.plans import load_plans


@dataclass(frozen=True)
class BotServices:
    settings: Settings
    library: Library
    index: SearchIndex
    messages: Messages
    smalltalk: SmallTalkMatcher


def build_index(library: Library, settings: Settings) -> SearchIndex:
    return SearchIndex(
        library.cards.values(),
        synonyms=library.synonyms,
        stopwords=library.stopwords,
        threshold=settings.answer_threshold,
        margin=settings.ambiguity_margin,
    )


def build_services(settings: Settings) -> BotServices:
    """Load and validate the content (refusing bad content) and build the search index."""
    library = load_checked(settings.content_dir, allow_missing_catalogue=True)
    load_plans()  # the plans and forms are data too: refuse to start with a broken file
    load_forms()
    return BotServices(
        settings=settings,
        library=library,
        index=build_index(library, settings),
        messages=Messages(library.messages),
        smalltalk=SmallTalkMatcher(library.smalltalk),
    )
