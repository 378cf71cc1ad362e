"""Everything in ``content/``, loaded and checked together at start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.knowledge.analyzer import ClueRule
from bot.knowledge.cards import Card, Problem, parse_card
from bot.knowledge.content_rules import Style, check_card_text, check_questions
from bot.knowledge.intents import KNOWN as KNOWN_INTENTS
from bot.knowledge.intents import IntentSpec
from bot.knowledge.messages import check_messages
from bot.knowledge.tips import Tip

log = logging.getLogger(__name__)

SAFETY_HEADING = "## Lưu ý an toàn"


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    description: str


class CatalogueEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    safety: bool = False  # the card must carry a "Lưu ý an toàn" section


class ClueSpec(BaseModel):
    """One entry of ``ambiguous.yaml``: a plain word's reading by its context."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plain: str = Field(pattern=r"^[a-z]+$")
    reading: str
    after: list[str] = Field(default_factory=list)
    before: list[str] = Field(default_factory=list)
    near: list[str] = Field(default_factory=list)

    def rule(self) -> ClueRule:
        return ClueRule(self.plain, self.reading, frozenset(self.after), frozenset(self.before), frozenset(self.near))


class SmallTalkIntent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    phrases: list[str] = Field(min_length=1)
    reply: str


class SmallTalk(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fillers: list[str]
    intents: list[SmallTalkIntent]


class ContentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Library:
    root: Path
    cards: dict[str, Card]
    topics: list[Topic]
    catalogue: list[CatalogueEntry]
    synonyms: list[list[str]]
    stopwords: list[str]
    messages: dict[str, str]
    smalltalk: SmallTalk
    style: Style = field(default_factory=Style)
    tips: list[Tip] = field(default_factory=list)
    intents: list[IntentSpec] = field(default_factory=list)
    clues: list[ClueRule] = field(default_factory=list)
    # example messages no card answers, by kind (near_topic, price, sick_animal, ask_person …)
    out_of_scope: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def cards_in(self, topic_id: str) -> list[Card]:
        order = {entry.id: i for i, entry in enumerate(self.catalogue)}
        found = [c for c in self.cards.values() if c.topic == topic_id]
        return sorted(found, key=lambda c: (order.get(c.id, len(order)), c.id))

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = path.relative_to(root).as_posix()
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(rel, "file", "missing"))
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, "file", f"bad YAML: {exc}".replace("\n", " ")))
    return None


def _validated(model: type[BaseModel], data: Any, rel: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(rel, ".".join(str(p) for p in err["loc"]), err["msg"]))
        return None


def _list_of(model: type[BaseModel], data: Any, rel: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(data, list):
        if data is not None:
            problems.append(Problem(rel, "file", "must be a YAML list"))
        return []
    out = []
    for i, item in enumerate(data):
        value = _validated(model, item, f"{rel}[{i}]", problems)
        if value is not None:
            out.append(value)
    return out


def _string_groups(data: Any, rel: str, problems: list[Problem]) -> list[list[str]]:
    if not isinstance(data, list) or not all(
        isinstance(g, list) and len(g) >= 2 and all(isinstance(p, str) and p.strip() for p in g)
        for g in data
    ):
        problems.append(Problem(rel, "file", "must be a list of groups of two or more phrases"))
        return []
    return data


def load_library(root: Path) -> Library:
    """Load and check everything; problems are collected, never raised here."""
    problems: list[Problem] = []
    if not root.is_dir():
        raise ContentError([Problem(str(root), "content_dir", "folder not found")])

    topics = _list_of(Topic, _read_yaml(root / "topics.yaml", root, problems), "topics.yaml", problems)
    catalogue = _list_of(
        CatalogueEntry, _read_yaml(root / "catalogue.yaml", root, problems), "catalogue.yaml", problems
    )
    synonyms = _string_groups(_read_yaml(root / "synonyms.yaml", root, problems), "synonyms.yaml", problems)
    stop = _read_yaml(root / "stopwords.yaml", root, problems)
    if stop is not None and not (isinstance(stop, list) and all(isinstance(w, str) for w in stop)):
        problems.append(Problem("stopwords.yaml", "file", "must be a list of words"))
        stop = []
    messages = _read_yaml(root / "messages.yaml", root, problems)
    if messages is not None and not (
        isinstance(messages, dict) and all(isinstance(v, str) for v in messages.values())
    ):
        problems.append(Problem("messages.yaml", "file", "must map keys to texts"))
        messages = {}
    smalltalk = _validated(
        SmallTalk, _read_yaml(root / "smalltalk.yaml", root, problems), "smalltalk.yaml", problems
    )
    style = Style.from_data(_read_yaml(root / "style.yaml", root, problems), problems)
    tips = _list_of(Tip, _read_yaml(root / "tips.yaml", root, problems), "tips.yaml", problems)
    intents = _list_of(IntentSpec, _read_yaml(root / "intents.yaml", root, problems), "intents.yaml", problems)
    clues = _list_of(ClueSpec, _read_yaml(root / "ambiguous.yaml", root, problems), "ambiguous.yaml", problems)
    out_of_scope = _read_yaml(root / "out-of-scope.yaml", root, problems)
    if out_of_scope is not None and not (
        isinstance(out_of_scope, dict)
        and all(
            isinstance(qs, list) and all(isinstance(q, str) and q.strip() for q in qs) for qs in out_of_scope.values()
        )
    ):
        problems.append(Problem("out-of-scope.yaml", "file", "must map a kind of message to a list of examples"))
        out_of_scope = {}

    cards: dict[str, Card] = {}
    card_root = root / "cards"
    for path in sorted(card_root.rglob("*.md")) if card_root.is_dir() else []:
        card, card_problems = parse_card(path, card_root)
        problems.extend(Problem(f"cards/{p.file}", p.field, p.message) for p in card_problems)
        if card is None:
            continue
        if card.id in cards:
            problems.append(Problem(f"cards/{card.id}.md", "id", f"duplicate id '{card.id}'"))
            continue
        cards[card.id] = card

    library = Library(
        root=root,
        cards=cards,
        topics=topics,
        catalogue=catalogue,
        synonyms=synonyms,
        stopwords=stop or [],
        messages=messages or {},
        smalltalk=smalltalk or SmallTalk(fillers=[], intents=[]),
        style=style,
        tips=tips,
        intents=intents,
        clues=[c.rule() for c in clues],
        out_of_scope=out_of_scope or {},
        problems=problems,
    )
    problems.extend(cross_check(library))
    return library


def cross_check(library: Library) -> list[Problem]:
    """Checks across files: topics, related ids, the catalogue, required sections."""
    problems: list[Problem] = check_messages(library.messages)
    topic_ids = {t.id for t in library.topics}
    catalogue = {e.id: e for e in library.catalogue}
    for card in library.cards.values():
        rel = f"cards/{card.id}.md"
        if card.topic not in topic_ids:
            problems.append(Problem(rel, "topic", f"unknown topic '{card.topic}'"))
        for rid in card.related:
            if rid not in library.cards:
                problems.append(Problem(rel, "related", f"'{rid}' does not resolve to a card"))
            elif rid == card.id:
                problems.append(Problem(rel, "related", "a card cannot relate to itself"))
        entry = catalogue.get(card.id)
        if entry and entry.safety and SAFETY_HEADING not in card.body:
            problems.append(Problem(rel, "body", f"missing section '{SAFETY_HEADING}'"))
        if "cán bộ khuyến nông" not in card.body.lower():
            problems.append(
                Problem(rel, "body", "must tell the farmer to ask the commune's extension officer")
            )
        if card.body.lstrip().startswith("#"):
            problems.append(Problem(rel, "body", "must open with the direct answer, not a heading"))
        problems.extend(check_card_text(card, library.style))
    out_of_scope = [q for qs in library.out_of_scope.values() for q in qs]
    problems.extend(check_questions(library.cards.values(), {"out-of-scope.yaml": out_of_scope}))
    ids = [i.id for i in library.intents]
    for i, intent_id in enumerate(ids):
        if intent_id not in KNOWN_INTENTS:
            problems.append(
                Problem(f"intents.yaml[{i}]", "id", f"unknown intent '{intent_id}'; use {list(KNOWN_INTENTS)}")
            )
        elif ids.index(intent_id) != i:
            problems.append(Problem(f"intents.yaml[{i}]", "id", f"duplicate intent '{intent_id}'"))
    for i, tip in enumerate(library.tips):
        if tip.topic not in topic_ids:
            problems.append(Problem(f"tips.yaml[{i}]", "topic", f"unknown topic '{tip.topic}'"))
        if tip.card is not None and tip.card not in library.cards:
            problems.append(Problem(f"tips.yaml[{i}]", "card", f"'{tip.card}' does not resolve to a card"))
    seen: set[str] = set()
    for entry in library.catalogue:
        if entry.id in seen:
            problems.append(Problem("catalogue.yaml", "id", f"duplicate catalogue id '{entry.id}'"))
        seen.add(entry.id)
        if entry.id not in library.cards:
            problems.append(Problem("catalogue.yaml", "id", f"catalogue id '{entry.id}' has no card"))
    for card_id in library.cards:
        if card_id not in catalogue:
            problems.append(Problem(f"cards/{card_id}.md", "id", "card is not in catalogue.yaml"))
    return problems


def load_checked(root: Path, *, allow_missing_catalogue: bool = False) -> Library:
    """Load for running: refuse bad content; optionally tolerate catalogue cards not written yet."""
    library = load_library(root)
    fatal = [
        p for p in library.problems
        if not (allow_missing_catalogue and p.file == "catalogue.yaml" and "has no card" in p.message)
    ]
    if fatal:
        raise ContentError(fatal)
    for p in library.problems:
        log.warning("content: %s", p)
    return library
