"""The seasonal tips calendar (``content/tips.yaml``), loaded and checked with the content."""

from __future__ import annotations

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
