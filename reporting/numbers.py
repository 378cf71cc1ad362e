"""Numbers as Vietnamese users type them: "1.200", "1,5", "1.200,5", "1200 tấn", "khoảng 300".

A dot followed by groups of three digits separates thousands; a comma is the decimal mark.
"khoảng/tầm/gần/hơn 300" is read as 300 but flagged approximate, so the form asks to confirm.
A unit typed after the number is checked against the field's unit and converted where it is
a plain change of scale (kg → tấn, m² → ha).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class NumberError(ValueError):
    """Why a text is not an acceptable number; ``code`` names the message shown to the user."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    approximate: bool = False  # "khoảng 300": ask the user to confirm
    converted_from: str | None = None  # the unit typed, when it was converted


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_APPROX = ("khoang", "tam", "gan", "hon", "chung", "uoc", "xap xi", "co le", "~", "≈", "tren", "duoi")
_SCALE_WORDS = {"nghin": Decimal(1000), "ngan": Decimal(1000), "trieu": Decimal(1_000_000)}
# unit typed (folded) -> (canonical unit, factor to that unit)
_UNITS = {
    "tan": ("tấn", Decimal(1)), "t": ("tấn", Decimal(1)), "ta": ("tấn", Decimal("0.1")),
    "kg": ("tấn", Decimal("0.001")), "ki": ("tấn", Decimal("0.001")), "ky": ("tấn", Decimal("0.001")),
    "ha": ("ha", Decimal(1)), "hecta": ("ha", Decimal(1)), "hec ta": ("ha", Decimal(1)),
    "m2": ("ha", Decimal("0.0001")), "met vuong": ("ha", Decimal("0.0001")),
    "lit": ("lít", Decimal(1)), "l": ("lít", Decimal(1)),
}
_NUMBER = re.compile(r"(?<![a-z])\d[\d.,]*")


def _to_decimal(raw: str) -> Decimal:
    raw = raw.strip(".,")
    if "." in raw and "," in raw:  # 1.200,5
        raw = raw.replace(".", "").replace(",", ".")
    elif "," in raw:  # 1,5: a comma is the decimal mark; 1,200,000 is English-style grouping
        raw = raw.replace(",", "") if raw.count(",") > 1 else raw.replace(",", ".")
    elif "." in raw:
        groups = raw.split(".")
        if len(groups) > 2 or (len(groups[1]) == 3 and groups[0] != "0"):
            raw = raw.replace(".", "")  # 1.200 or 1.200.000
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise NumberError("not_a_number") from exc


def parse_number(text: str, *, unit: str | None = None, whole: bool = False) -> ParsedNumber:
    """Read one number ≥ 0 from ``text`` in the field's ``unit``; raise NumberError if unclear."""
    folded = _fold(text).strip()
    if not folded:
        raise NumberError("empty")
    if folded.startswith("-") or folded.startswith("am "):
        raise NumberError("negative")
    numbers = _NUMBER.findall(folded)
    if not numbers:
        raise NumberError("not_a_number")
    if len(numbers) > 1:
        raise NumberError("several_numbers")
    value = _to_decimal(numbers[0])
    approximate = any(re.search(rf"(^|\s){re.escape(w)}(\s|$)", folded) or folded.startswith(w) for w in _APPROX)
    rest = _NUMBER.sub(" ", folded, count=1)
    for word, factor in _SCALE_WORDS.items():
        if re.search(rf"\b{word}\b", rest):
            value *= factor
            rest = re.sub(rf"\b{word}\b", " ", rest)
    converted = None
    words = " ".join(re.findall(r"[a-z0-9²]+", rest.replace("²", "2")))
    for typed, (canonical, factor) in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(^|\s){re.escape(typed)}(\s|$)", words):
            if unit is not None and canonical != unit:
                raise NumberError("wrong_unit", typed=typed, unit=unit)
            if factor != 1:
                value *= factor
                converted = typed
            break
    if whole and value != value.to_integral_value():
        raise NumberError("not_whole")
    return ParsedNumber(value.normalize() if value else Decimal(0), approximate, converted)


def format_number(value: Decimal | float | int) -> str:
    """1200 → '1.200', 1.5 → '1,5' (Vietnamese style)."""
    d = Decimal(str(value)).normalize()
    sign = d.is_signed()
    whole, _, frac = f"{abs(d):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return ("-" if sign else "") + grouped + ("," + frac if frac else "")
