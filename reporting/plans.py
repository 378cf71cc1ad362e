"""The provinces' plans as data: one YAML file per plan in ``reporting/plans/``."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reporting.periods import DEFAULT_CUTOFF_DAY, Period

PLANS_DIR = Path(__file__).resolve().parent / "plans"


class Deadline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    period: Literal["Y", "S1", "S2"]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class IndicatorTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    target: float | None = None
    target_year: int | None = None
    target_kind: Literal["pct", "count", "growth_pct_over_baseline"] | None = None


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    province_code: int
    former_province_code: int | None = None
    name: str
    document: str
    first_year: int = Field(ge=2000, le=2100)  # from the plan's document: nothing is reported before it
    cutoff_day: int = Field(default=DEFAULT_CUTOFF_DAY, ge=1, le=28)
    forms: list[str]
    deadlines: list[Deadline]
    reminder_days: list[int] = Field(default_factory=lambda: [7, 2])
    indicators: list[IndicatorTarget]

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
