"""The seasonal tips calendar (``content/tips.yaml``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Tip(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    provinces: list[int] = Field(default_factory=list)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    topic: str
    card: str | None = None
    text: str = Field(min_length=10)


@cache
def load_tips(path: Path) -> list[Tip]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []
    return [Tip.model_validate(item) for item in data or []]
