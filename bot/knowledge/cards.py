"""Guidance cards: Markdown files with YAML front matter under ``content/cards/<topic>/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
ID_PATTERN = r"^[a-z0-9-]+/[a-z0-9-]+$"
AUDIENCES = {"nông dân", "cán bộ khuyến nông", "HTX", "trang trại", "cán bộ tỉnh"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the content, precise enough to fix: file, field, what."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=3)  # the publisher and the document
    # the year the document was published: required, and never guessed (a source whose year
    # cannot be established is replaced by one that has it)
    year: int = Field(ge=1900, le=2100)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class Card(BaseModel):
    """A guidance card. ``body`` is Markdown; the rest comes from the front matter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=3, max_length=80)
    topic: str
    summary: str = Field(min_length=10, max_length=400)
    keywords: list[str] = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=list)
    audience: list[str] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    reviewed: date
    # how farmers ask for this card: training and cross-validation data for the Q&A
    questions: list[str] = Field(default_factory=list)
    body: str = Field(min_length=20)

    @field_validator("audience")
    @classmethod
    def _known_audience(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in AUDIENCES]
        if unknown:
            raise ValueError(f"unknown audience {unknown}; use {sorted(AUDIENCES)}")
        return value

    @field_validator("related")
    @classmethod
    def _related_ids(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not re.match(ID_PATTERN, r)]
        if bad:
            raise ValueError(f"related ids must look like topic/slug: {bad}")
        return value

    @property
    def slug(self) -> str:
        return self.id.split("/", 1)[1]

    def source_line(self) -> str:
        return "; ".join(str(s) for s in self.sources)


def parse_card(path: Path, root: Path) -> tuple[Card | None, list[Problem]]:
    """Read one card file; on failure return the problems, each with its field."""
    rel = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(rel, "file", f"cannot read: {exc}")]
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        return None, [Problem(rel, "front matter", "missing '---' YAML block at the top")]
    try:
        meta: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        return None, [Problem(rel, "front matter", f"bad YAML: {exc}".replace("\n", " "))]
    if not isinstance(meta, dict):
        return None, [Problem(rel, "front matter", "must be a YAML mapping")]
    meta["body"] = match.group(2).strip()
    try:
        card = Card.model_validate(meta)
    except ValidationError as exc:
        return None, [
            Problem(rel, ".".join(str(p) for p in err["loc"]) or "card", err["msg"])
            for err in exc.errors()
        ]
    expected_id = path.relative_to(root).with_suffix("").as_posix()
    problems = []
    if card.id != expected_id:
        problems.append(Problem(rel, "id", f"'{card.id}' must equal the file's path '{expected_id}'"))
    if card.topic != card.id.split("/", 1)[0]:
        problems.append(Problem(rel, "topic", f"'{card.topic}' must match the folder of the id"))
    return card, problems
