"""The provinces' plans as data: one YAML file per plan in ``reporting/plans/``."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reporting.periods import DEFAULT_CUTOFF_DAY, Period

PLANS_DIR = Path(__file__).resolve().parent / "plans"


class Deadline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    period: Literal["Y", "S1", "S2"]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class Milestone(BaseModel):
    """A target the plan's document sets for a year before the final one (80 % in 2025, then 90 % in 2030)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    year: int = Field(ge=2000, le=2100)
    target: float


class IndicatorTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    target: float | None = None
    target_year: int | None = None
    target_kind: Literal["pct", "count", "growth_pct_over_baseline"] | None = None
    # the path to the target goes through these (reporting/progress.py), in year order
    milestones: list[Milestone] = Field(default_factory=list)

    @model_validator(mode="after")
    def _milestones_in_order(self) -> IndicatorTarget:
        years = [m.year for m in self.milestones]
        if years != sorted(set(years)):
            raise ValueError("milestones: one per year, in year order")
        if self.milestones and self.target_year is not None and years[-1] > self.target_year:
            raise ValueError("milestones: a milestone after the target year")
        return self


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    province_code: int
    former_province_code: int | None = None
    name: str
    document: str
    first_year: int = Field(ge=2000, le=2100)  # from the plan's document: nothing is reported before it
    # the year the path to each target starts from (reporting/progress.py); the first year when not set
    baseline_year: int | None = Field(default=None, ge=2000, le=2100)
    cutoff_day: int = Field(default=DEFAULT_CUTOFF_DAY, ge=1, le=28)
    forms: list[str]
    deadlines: list[Deadline]
    reminder_days: list[int] = Field(default_factory=lambda: [7, 2])
    indicators: list[IndicatorTarget]

    @property
    def start_year(self) -> int:
        """The year the path to the targets starts from: the plan's baseline year, or its first year."""
        return self.baseline_year if self.baseline_year is not None else self.first_year

    @property
    def half_yearly(self) -> bool:
        """The plan asks for six-monthly reports (a deadline for the first half-year)."""
        return any(d.period in ("S1", "S2") for d in self.deadlines)

    def deadline_for(self, period: Period) -> date | None:
        """When the report for ``period`` (a half-year or a year) is due under this plan."""
        wanted = {"Y": {"Y"}, "S": {f"S{period.n}"} | ({"Y"} if period.n == 2 else set())}.get(period.kind, set())
        days = [date(period.year, d.month, d.day) for d in self.deadlines if d.period in wanted]
        return min(days) if days else None

    def applies_to(self, province_code: int, former_province_codes: tuple[int, ...] = ()) -> bool:
        if self.province_code != province_code:
            return False
        return self.former_province_code is None or self.former_province_code in former_province_codes


@cache
def load_plans(directory: Path = PLANS_DIR) -> dict[str, Plan]:
    """Every plan; a broken file raises ValueError with ``plans/<file>: field: problem`` lines."""
    plans = {}
    problems = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            plan = Plan.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except ValidationError as exc:
            problems += [f"plans/{path.name}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
                         for err in exc.errors()]
            continue
        if plan.id != path.stem:
            problems.append(f"plans/{path.name}: id: '{plan.id}' must equal the file name")
        plans[plan.id] = plan
    if problems:
        raise ValueError("\n".join(problems))
    return plans


def plans_for(province_code: int, former_province_codes: tuple[int, ...] = ()) -> list[Plan]:
    return [p for p in load_plans().values() if p.applies_to(province_code, former_province_codes)]
