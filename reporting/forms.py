"""Report forms as data (``forms.yaml``) and the rules that check the answers.

Reasons for refusing an answer are ``Problem`` codes with parameters; the chat layer turns them
into Vietnamese sentences from its message catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reporting.areas import commune, fold
from reporting.numbers import NumberError, format_number, parse_number
from reporting.vocabulary import FieldKind

FORMS_FILE = Path(__file__).resolve().parent / "forms.yaml"
# what the baseline figures are, as a person reads them in a refusal
BASELINE_LABELS = {
    "livestock_households": "số hộ chăn nuôi", "farms": "số trang trại", "cooperatives": "số HTX",
    "extension_staff": "số cán bộ khuyến nông", "straw_generated_t": "lượng rơm rạ phát sinh cả năm",
    "byproducts_generated_t": "lượng phụ phẩm cây trồng phát sinh cả năm",
    "aquaculture_area_ha": "diện tích nuôi thủy sản",
}


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(pattern=r"^[a-z_]+$")
    label: str
    words: list[str] = Field(default_factory=list)  # how people name it in a breakdown answer


class FieldDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z_]+$")
    kind: FieldKind
    label: str
    unit: str | None = None
    optional: bool = False
    aggregation: Literal["stock", "flow"] | None = None
    choices: list[Choice] = Field(default_factory=list)
    exclusive: str | None = None  # a choice that excludes the others ("none")
    when: str | None = None  # asked only when this yes/no field was answered yes
    # a breakdown: one answer («30 hộ biogas, 12 hộ đệm lót») fills one field per choice;
    # ``parts`` maps each choice value to the field it fills, choices' ``words`` find them
    parts: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _choices_for_choice_kinds(self) -> FieldDef:
        if self.kind in {"choice", "choices", "breakdown"} and not self.choices:
            raise ValueError(f"{self.key}: a {self.kind} field needs choices")
        if self.kind == "breakdown" and set(self.parts) != {c.value for c in self.choices}:
            raise ValueError(f"{self.key}: a breakdown names a field (parts) for every choice")
        return self

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["each_le", "total_le_sum", "sum_le", "le_baseline", "le_field"]
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

    derived: dict[str, str] = Field(default_factory=dict)  # values computed at filing: key → how

    @model_validator(mode="after")
    def _checks_name_fields(self) -> FormDef:
        keys = self.value_keys()
        for check in self.checks:
            named = [*check.parts, *(x for x in (check.total, check.field) if x)]
            missing = [k for k in named if k not in keys]
            if missing:
                raise ValueError(f"check {check.rule} names unknown fields {missing}")
            if check.baseline is not None and check.baseline not in BASELINE_LABELS:
                raise ValueError(f"check {check.rule} names unknown baseline figure {check.baseline!r}")
        return self

    def value_keys(self) -> set[str]:
        """Every value a report of this form can hold: answers, breakdown parts, derived values."""
        return {f.key for f in self.fields} | {k for f in self.fields for k in f.parts.values()} | set(self.derived)

    def field(self, key: str) -> FieldDef:
        return next(f for f in self.fields if f.key == key)

    def label(self, key: str) -> str:
        """The words a person reads for a value: the question's label, or a breakdown part's."""
        for f in self.fields:
            if f.key == key:
                return f.label
            for value, part in f.parts.items():
                if part == key:
                    return f"{f.label.split('?')[0].split('(')[0].strip()}: {f.choice_label(value)}"
        return key

    def asked(self, values: dict[str, Any]) -> list[FieldDef]:
        """The fields to ask, given the answers so far (a "when" field only after a yes)."""
        return [f for f in self.fields if f.when is None or values.get(f.when) is True]

    def missing(self, values: dict[str, Any]) -> list[FieldDef]:
        """Required questions not answered yet (a skipped optional one is answered: no data)."""
        return [f for f in self.asked(values) if not f.optional and values.get(f.key) in (None, [])
                and not (f.kind == "breakdown" and all(p in values for p in f.parts.values()))]


class FormsError(ValueError):
    """``file: field: problem`` lines: forms, plans and indicators that do not fit together."""


@cache
def load_forms(path: Path = FORMS_FILE) -> dict[str, FormDef]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    forms = {}
    problems = []
    for key, value in data.items():
        try:
            forms[key] = FormDef.model_validate({"id": key, **value})
        except ValidationError as exc:
            problems += [f"{path.name}: {key}: {err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]
    if problems:
        raise FormsError("\n".join(problems))
    return forms


def forms_for_role(role: str) -> list[FormDef]:
    """The forms a member of ``role`` fills in (``role:`` in forms.yaml)."""
    return [f for f in load_forms().values() if f.role == role]


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
# typed instead of a figure: no data («bỏ qua»), where skipping is allowed
_SKIP = {"bo qua", "bo", "skip", "khong co", "ko co", "k co", "kh co", "chua co", "chua co so", "chua co so lieu",
         "khong co so lieu", "ko co so lieu", "khong biet", "ko biet", "chua biet", "khong ro", "bo qua cau nay"}
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


SKIPPED = object()  # the value of Parsed when the answer says "no figure"


def is_skip(text: str) -> bool:
    return fold(text).strip(" .!") in _SKIP


def parse_answer(fdef: FieldDef, text: str, *, today: date) -> Parsed:
    """Read a typed answer for ``fdef``; raise Problem with the reason when it is not usable.

    «bỏ qua», «không có», «chưa có số» on an optional question: ``Parsed(SKIPPED)`` (no data);
    on a required one, a Problem saying it must be answered."""
    if fdef.kind in {"count", "amount", "breakdown"} and is_skip(text):
        if fdef.optional:
            return Parsed(SKIPPED)
        raise Problem("required")
    if fdef.kind == "breakdown":
        return Parsed(parse_breakdown(fdef, text))
    if fdef.kind in {"count", "amount"}:
        try:
            number = parse_number(text, unit=fdef.unit, whole=fdef.kind == "count")
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


def parse_breakdown(fdef: FieldDef, text: str) -> dict[str, int]:
    """«30 hộ biogas, 12 hộ đệm lót» → {biogas field: 30, bedding field: 12, the others: 0}."""
    values = {part: 0 for part in fdef.parts.values()}
    if fold(text) in {"0", "0 ho", "khong ho nao"}:  # none of them: every way 0
        return values
    found = False
    for raw in re.split(r"[,;\n+]|\s(?:và|va|với|voi)\s", text, flags=re.IGNORECASE):
        chunk = fold(raw)
        if not re.search(r"\d", chunk):
            continue
        choice = next((c for c in fdef.choices if any(re.search(rf"\b{re.escape(fold(w))}\b", chunk)
                                                     for w in [c.label, *c.words])), None)
        if choice is None:
            raise Problem("breakdown_unclear")
        try:
            number = parse_number(raw, whole=True)  # one number; a minus sign, «trừ», 1e9 … are refused
        except NumberError as exc:
            code = "breakdown_unclear" if exc.code == "several_numbers" else f"number_{exc.code}"
            raise Problem(code, {**exc.params, "unit": fdef.unit or ""}) from exc
        values[fdef.parts[choice.value]] = int(number.value)
        found = True
    if not found:
        raise Problem("breakdown_unclear")
    return values


def show(fdef: FieldDef, value: Any) -> str:
    """A value as the user reads it in a summary."""
    if value is None:
        return "(bỏ qua — thiếu số liệu)"
    if fdef.kind == "breakdown" and isinstance(value, dict):
        unit = f" {fdef.unit}" if fdef.unit else ""
        return ", ".join(f"{c.label} {format_number(value.get(fdef.parts[c.value], 0))}{unit}" for c in fdef.choices)
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
    if fdef.kind == "commune" and isinstance(value, int):
        found = commune(value)
        return found.name if found else str(value)
    return str(value)


def check_answers(
    form: FormDef, values: dict[str, Any], *, baseline: dict[str, float | None] | None = None,
    just_answered: str | None = None, earlier: dict[str, float] | None = None, year: int | None = None,
) -> list[Problem]:
    """Rules that fail with the answers so far; with ``just_answered``, only rules involving it
    whose fields are all answered (so a form checks as it goes, and in full before filing).

    ``earlier``: for flow fields, what the unit already filed for the other half-years of the
    same year: a flow is also checked as a year's total against an annual baseline figure."""
    problems: list[Problem] = []

    def num(key: str) -> Decimal | None:  # exact: 1,1 + 2,2 is 3,3, not 3,3000000000000003
        value = values.get(key)
        return _exact(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    for check in form.checks:
        involved = [*check.parts, *(x for x in (check.total, check.field) if x)]
        if just_answered is not None and just_answered not in involved and not any(
                just_answered == f.key and set(f.parts.values()) & set(involved) for f in form.fields):
            continue
        if check.rule in ("le_baseline", "le_field"):
            assert check.field
            value = num(check.field)
            if check.rule == "le_field":
                assert check.total
                limit, limit_label = num(check.total), f"«{form.label(check.total)}»"
                code = "above_field"
            else:
                assert check.baseline
                limit, limit_label = _exact((baseline or {}).get(check.baseline)), BASELINE_LABELS[check.baseline]
                code = "above_baseline"
            if value is None or limit is None:
                continue
            fdef = _field_or_part(form, check.field)
            params = {"field": form.label(check.field), "value": show(fdef, value),
                      "limit": show(fdef, limit), "limit_label": limit_label}
            if value > limit:
                problems.append(Problem(code, params))
                continue
            before = _exact((earlier or {}).get(check.field))
            if check.rule == "le_baseline" and fdef.aggregation == "flow" and before and value + before > limit:
                problems.append(Problem("above_baseline_year", {
                    **params, "year": year or "", "earlier": show(fdef, before), "total": show(fdef, value + before)}))
            continue
        assert check.total
        total = num(check.total)
        parts = {p: num(p) for p in check.parts}
        if total is None:
            continue
        total_label = form.label(check.total)
        total_field = _field_or_part(form, check.total)
        if check.rule == "each_le":
            for key, value in parts.items():
                if value is not None and value > total and (just_answered in (None, key, check.total)
                                                            or key not in {f.key for f in form.fields}):
                    problems.append(Problem("part_above_total", {
                        "part": form.label(key), "value": show(_field_or_part(form, key), value),
                        "total": show(total_field, total), "total_label": total_label}))
            continue
        answered = [v for v in parts.values() if v is not None]
        pending = just_answered is not None and any(
            p not in values for p in check.parts if not _field_or_part(form, p).optional)
        if pending or not answered:
            continue
        if check.rule == "total_le_sum" and total > sum(answered):
            problems.append(Problem("total_above_parts", {
                "total": show(total_field, total), "sum": format_number(sum(answered)),
                "total_label": total_label}))
        if check.rule == "sum_le" and sum(answered) > total:
            problems.append(Problem("parts_above_total", {
                "total": show(total_field, total), "sum": format_number(sum(answered)),
                "total_label": total_label}))
    return problems


def _exact(value: float | int | None) -> Decimal | None:
    """A stored figure as the decimal the person typed (floats print back as typed: 1.1 → 1.1)."""
    return None if value is None else Decimal(str(value))


def _field_or_part(form: FormDef, key: str) -> FieldDef:
    """The question of ``key``; a breakdown part is shown as a count in the breakdown's unit."""
    for f in form.fields:
        if f.key == key:
            return f
        if key in f.parts.values():
            return FieldDef(key=key, kind=FieldKind.COUNT, label=form.label(key), unit=f.unit,
                            aggregation=f.aggregation)
    raise KeyError(key)
