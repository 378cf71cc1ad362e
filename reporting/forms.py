"""Report forms as data (``forms.yaml``) and the rules that check the answers.

Reasons for refusing an answer are ``Problem`` codes with parameters; the chat layer turns them
into Vietnamese sentences from its message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from reporting.numbers import NumberError, format_number, parse_number
from reporting.units import fold

FORMS_FILE = Path(__file__).resolve().parent / "forms.yaml"
Kind = Literal["count", "amount", "yesno", "choice", "choices", "date", "commune"]


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(pattern=r"^[a-z_]+$")
    label: str


class FieldDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z_]+$")
    kind: Kind
    label: str
    unit: str | None = None
    optional: bool = False
    aggregation: Literal["stock", "flow"] | None = None
    choices: list[Choice] = Field(default_factory=list)
    exclusive: str | None = None  # a choice that excludes the others ("none")
    when: str | None = None  # asked only when this yes/no field was answered yes

    @model_validator(mode="after")
    def _choices_for_choice_kinds(self) -> FieldDef:
        if self.kind in {"choice", "choices"} and not self.choices:
            raise ValueError(f"{self.key}: a {self.kind} field needs choices")
        return self

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["each_le", "total_le_sum", "sum_le", "le_baseline"]
    total: str | None = None
    parts: list[str] = Field(default_factory=list)
    field: str | None = None
    baseline: str | None = None


class FormDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    role: str
    period_kind: Literal["S", "Y", "dated"]
    fields: list[FieldDef]
    checks: list[Check] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks_name_fields(self) -> FormDef:
        keys = {f.key for f in self.fields}
        for check in self.checks:
            named = [*check.parts, *(x for x in (check.total, check.field) if x)]
            missing = [k for k in named if k not in keys]
            if missing:
                raise ValueError(f"form {self.id}: check {check.rule} names unknown fields {missing}")
        return self

    def field(self, key: str) -> FieldDef:
        return next(f for f in self.fields if f.key == key)

    def asked(self, values: dict[str, Any]) -> list[FieldDef]:
        """The fields to ask, given the answers so far (a "when" field only after a yes)."""
        return [f for f in self.fields if f.when is None or values.get(f.when) is True]


@cache
def load_forms(path: Path = FORMS_FILE) -> dict[str, FormDef]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: FormDef.model_validate({"id": key, **value}) for key, value in data.items()}


# -- answers ---------------------------------------------------------------------------------
@dataclass
class Problem(Exception):
    """Why an answer cannot be accepted; ``code`` keys a message, ``params`` fill it in."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    value: Any
    approximate: bool = False


_YES = {"co", "yes", "dung", "vang", "u", "roi", "co a", "da co", "ok"}
_NO = {"khong", "no", "chua", "ko", "k", "khong co", "chua co"}
_TODAY = {"hom nay", "nay", "today"}
_YESTERDAY = {"hom qua", "qua"}


def parse_date(text: str, today: date) -> date:
    folded = fold(text)
    if folded in _TODAY:
        return today
    if folded in _YESTERDAY:
        return today - timedelta(days=1)
    parts = [p for p in folded.replace("/", " ").replace("-", " ").replace(".", " ").split() if p.isdigit()]
    try:
        if len(parts) == 3 and len(parts[0]) == 4:  # 2026-11-12
            year, month, day = (int(p) for p in parts)
        elif len(parts) == 3:
            day, month, year = (int(p) for p in parts)
            year += 2000 if year < 100 else 0
        elif len(parts) == 2:
            day, month = (int(p) for p in parts)
            year = today.year
        else:
            raise ValueError
        return date(year, month, day)
    except ValueError as exc:
        raise Problem("bad_date") from exc


def parse_answer(fdef: FieldDef, text: str, *, today: date) -> Parsed:
    """Read a typed answer for ``fdef``; raise Problem with the reason when it is not usable."""
    if fdef.kind in {"count", "amount"}:
        try:
            number = parse_number(text, unit=fdef.unit if fdef.unit in {"tấn", "ha", "lít"} else None,
                                  whole=fdef.kind == "count")
        except NumberError as exc:
            raise Problem(f"number_{exc.code}", {**exc.params, "unit": fdef.unit or ""}) from exc
        value: int | float = int(number.value) if fdef.kind == "count" else float(number.value)
        return Parsed(value, number.approximate or number.converted_from is not None)
    if fdef.kind == "yesno":
        folded = fold(text)
        if folded in _YES:
            return Parsed(True)
        if folded in _NO:
            return Parsed(False)
        raise Problem("yes_or_no")
    if fdef.kind == "date":
        day = parse_date(text, today)
        if day > today:
            raise Problem("date_in_future", {"date": f"{day:%d/%m/%Y}"})
        if day < today - timedelta(days=3 * 366):
            raise Problem("date_too_old", {"date": f"{day:%d/%m/%Y}"})
        return Parsed(day.isoformat())
    if fdef.kind in {"choice", "choices"}:
        folded = fold(text)
        for choice in fdef.choices:
            if folded in {fold(choice.label), choice.value}:
                return Parsed(choice.value if fdef.kind == "choice" else [choice.value])
        raise Problem("pick_a_button")
    raise Problem("pick_a_button")


def show(fdef: FieldDef, value: Any) -> str:
    """A value as the user reads it in a summary."""
    if value is None:
        return "(bỏ qua)"
    if fdef.kind in {"count", "amount"}:
        text = format_number(Decimal(str(value)))
        return f"{text} {fdef.unit}" if fdef.unit else text
    if fdef.kind == "yesno":
        return "Có" if value else "Không"
    if fdef.kind == "date":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if fdef.kind == "choices":
        return ", ".join(fdef.choice_label(v) for v in value) or "(chưa chọn)"
    if fdef.kind == "choice":
        return fdef.choice_label(value)
    return str(value)


def check_answers(
    form: FormDef, values: dict[str, Any], *, baseline: dict[str, float | None] | None = None,
    just_answered: str | None = None,
) -> list[Problem]:
    """Rules that fail with the answers so far; with ``just_answered``, only rules involving it
    whose fields are all answered (so a form checks as it goes, and in full before filing)."""
    problems: list[Problem] = []

    def num(key: str) -> float | None:
        value = values.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    for check in form.checks:
        involved = [*check.parts, *(x for x in (check.total, check.field) if x)]
        if just_answered is not None and just_answered not in involved:
            continue
        if check.rule == "le_baseline":
            assert check.field and check.baseline
            value, limit = num(check.field), (baseline or {}).get(check.baseline)
            if value is not None and limit is not None and value > limit:
                problems.append(Problem("above_baseline", {
                    "field": form.field(check.field).label, "value": show(form.field(check.field), value),
                    "limit": format_number(Decimal(str(limit))), "baseline": check.baseline}))
            continue
        assert check.total
        total = num(check.total)
        parts = {p: num(p) for p in check.parts}
        if total is None:
            continue
        total_label = form.field(check.total).label
        if check.rule == "each_le":
            for key, value in parts.items():
                if value is not None and value > total and (just_answered in (None, key, check.total)):
                    problems.append(Problem("part_above_total", {
                        "part": form.field(key).label, "value": show(form.field(key), value),
                        "total": show(form.field(check.total), total), "total_label": total_label}))
            continue
        answered = [v for v in parts.values() if v is not None]
        pending = just_answered is not None and any(
            p not in values for p in check.parts if not form.field(p).optional)
        if pending or not answered:
            continue
        if check.rule == "total_le_sum" and total > sum(answered):
            problems.append(Problem("total_above_parts", {
                "total": show(form.field(check.total), total), "sum": format_number(Decimal(str(sum(answered)))),
                "total_label": total_label}))
        if check.rule == "sum_le" and sum(answered) > total:
            problems.append(Problem("parts_above_total", {
                "total": show(form.field(check.total), total), "sum": format_number(Decimal(str(sum(answered)))),
                "total_label": total_label}))
    return problems
