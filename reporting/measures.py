"""What an indicator's figures count, in words and units: the numerator (fields of a report
form, ``forms.yaml``), the denominator (the commune's baseline figures, or fields of the same
reports), the source form, and how a figure is rounded the way a person writes it.

Used by the exports (workbook, report document) so that «Tử số» reads «Rơm rạ thu gom, tái sử
dụng trong kỳ (tấn)», never a bare number.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.forms import BASELINE_LABELS, load_forms
from reporting.indicators import Definition

# the unit of each baseline figure (the baseline import reads them in these units)
BASELINE_UNITS = {
    "livestock_households": "hộ", "farms": "trang trại", "cooperatives": "HTX", "extension_staff": "người",
    "straw_generated_t": "tấn", "byproducts_generated_t": "tấn", "aquaculture_area_ha": "ha",
}
# values computed when a report is filed (forms.yaml ``derived``): what they count, per form
DERIVED = {
    ("farm", "applies_treatment"): ("Số trang trại áp dụng xử lý chất thải", "trang trại"),
    ("cooperative", "applies_treatment"): ("Số HTX áp dụng xử lý chất thải", "HTX"),
}
# units counted in whole numbers; anything else (tấn, ha, %) is written with one decimal
WHOLE_UNITS = {"hộ", "trang trại", "HTX", "người", "lồng", "buổi", "doanh nghiệp", "con", "xã"}
DATED_FORMS = {"training"}  # events recorded when they happen, by date (not by half-year)


@dataclass(frozen=True)
class Measure:
    """One side of an indicator: what it counts, in which unit, from where."""

    label: str
    unit: str
    source: str  # «Báo cáo cấp xã», «số liệu nền của xã»

    @property
    def heading(self) -> str:
        """«Rơm rạ thu gom, tái sử dụng trong kỳ (tấn)»."""
        return f"{self.label} ({self.unit})"


def _join(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else " + ".join(labels)


def _field(form_id: str, key: str) -> tuple[str, str]:
    form = load_forms()[form_id]
    if (form_id, key) in DERIVED:
        return DERIVED[form_id, key]
    found = form.field(key)
    return found.label, found.unit or ""


def numerator(definition: Definition) -> Measure | None:
    num = definition.numerator
    if num is None:
        return None
    form = load_forms()[num.form]
    if num.count:  # a count of the form's records: «Số buổi tập huấn»
        return Measure(definition.title, definition.unit, form.title)
    fields = [_field(num.form, key) for key in num.fields]
    units = {unit for _, unit in fields}
    unit = units.pop() if len(units) == 1 else definition.unit
    return Measure(_join([label for label, _ in fields]), unit, form.title)


def denominator(definition: Definition) -> Measure | None:
    if definition.denominator:
        units = {BASELINE_UNITS[key] for key in definition.denominator}
        label = _join([BASELINE_LABELS[key] for key in definition.denominator])
        return Measure(label[0].upper() + label[1:], units.pop() if len(units) == 1 else "",
                       "Số liệu nền của xã")
    if definition.denominator_from_reports and definition.numerator is not None:
        form = definition.numerator.form
        fields = [_field(form, key) for key in definition.denominator_from_reports]
        units = {unit for _, unit in fields}
        return Measure(_join([label for label, _ in fields]), units.pop() if len(units) == 1 else "",
                       load_forms()[form].title)
    return None


def explanation(definition: Definition) -> str:
    """How the figure is computed, in one sentence an official can read out."""
    meaning = f"{definition.definition} " if definition.definition else ""
    if definition.not_collected:
        return meaning + definition.not_collected
    num, den = numerator(definition), denominator(definition)
    if num is None:
        return meaning.strip()
    if den is None:
        return f"{meaning}{num.heading}, tổng các xã, theo «{num.source}»."
    return (f"{meaning}Tử số: {num.heading}, theo «{num.source}». Mẫu số: {den.heading}, theo "
            f"«{den.source}». Giá trị = tử số / mẫu số × 100, tính trên các xã có đủ cả hai số.")


def digits(unit: str) -> int:
    """Decimals a person writes for a figure in ``unit``: 0 for counts, 1 otherwise."""
    return 0 if unit in WHOLE_UNITS else 1


def rounded(value: float | None, unit: str) -> float | int | None:
    """60884.40000000001 tấn → 60884.4; 1203.0 hộ → 1203; None stays None (no data)."""
    if value is None:
        return None
    places = digits(unit)
    return round(value) if places == 0 else round(value, places)
