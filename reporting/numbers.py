"""Numbers as Vietnamese users type them: "1.200", "1,5", "1.200,5", "200 kg", "2 tạ", "khoảng 300".

A dot followed by groups of three digits separates thousands; a comma is the decimal mark.
"khoảng/tầm/gần/hơn 300" is read as 300 but flagged approximate, so the form asks to confirm.
A unit typed after the number is converted into the field's own unit when both measure the
same thing (mass: g, kg, yến, tạ, tấn; area: m², ha; volume: ml, lít, m³): in a kg field
«200 kg» is 200 and «2 tạ» is 200, in a tonne field «500 kg» is 0,5. Units that mean different
sizes in different regions (sào, công, mẫu) are refused with the reason, so are a unit of
another kind, a negative sign in any form (−, –, «trừ», «âm»), exponents (1e9) and separators
that do not group thousands (1.2.3).
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
_SCALE_WORDS = {"nghin": Decimal(1000), "ngan": Decimal(1000), "trieu": Decimal(1_000_000), "tr": Decimal(1_000_000),
                "ty": Decimal(10**9), "ti": Decimal(10**9)}
MAX_SCALE_WORDS = 2  # «5 nghìn triệu» yes; «1 tỷ tỷ tỷ» is an exponent in words
_HALF = "ruoi"  # «1 tấn rưỡi» = 1,5 tấn, «2 nghìn rưỡi» = 2.500
# units of the right kind but that no field uses, or of no kind a field has (never read as the field's unit)
_UNKNOWN_UNITS = ("m", "met", "cm", "km", "mm", "inch", "feet", "cay so", "thuoc")
_COUNTED = ("ho", "con", "nguoi", "long", "htx", "trang trai", "buoi", "cai", "chiec", "lan", "xa")
# how a folded unit is written back to the person
_SHOWN = {"ta": "tạ", "tan": "tấn", "t": "tấn", "yen": "yến", "lang": "lạng", "can": "cân", "ky": "ký", "ki": "ký",
          "lit": "lít", "l": "lít", "m2": "m²", "m3": "m³", "khoi": "khối", "met khoi": "mét khối",
          "met vuong": "mét vuông", "m vuong": "mét vuông", "km2": "km²", "hec ta": "héc ta", "ho": "hộ",
          "nguoi": "người", "long": "lồng", "trang trai": "trang trại", "buoi": "buổi", "cai": "cái",
          "chiec": "chiếc", "lan": "lần", "xa": "xã", "met": "mét", "cay so": "cây số", "thuoc": "thước",
          "sao": "sào", "cong": "công", "mau": "mẫu"}
# what a unit measures, and its size in the base unit of that measure (kg, m², lít)
MASS, AREA, VOLUME = "mass", "area", "volume"
_MEASURED: dict[str, tuple[str, Decimal]] = {
    "g": (MASS, Decimal("0.001")), "gam": (MASS, Decimal("0.001")), "gram": (MASS, Decimal("0.001")),
    "lang": (MASS, Decimal("0.1")),
    "kg": (MASS, Decimal(1)), "ki": (MASS, Decimal(1)), "ky": (MASS, Decimal(1)), "kilo": (MASS, Decimal(1)),
    "kilogam": (MASS, Decimal(1)), "can": (MASS, Decimal(1)),
    "yen": (MASS, Decimal(10)), "ta": (MASS, Decimal(100)),
    "tan": (MASS, Decimal(1000)), "t": (MASS, Decimal(1000)),
    "m2": (AREA, Decimal(1)), "met vuong": (AREA, Decimal(1)), "m vuong": (AREA, Decimal(1)),
    "ha": (AREA, Decimal(10_000)), "hecta": (AREA, Decimal(10_000)), "hec ta": (AREA, Decimal(10_000)),
    "km2": (AREA, Decimal(1_000_000)),
    "ml": (VOLUME, Decimal("0.001")), "lit": (VOLUME, Decimal(1)), "l": (VOLUME, Decimal(1)),
    "m3": (VOLUME, Decimal(1000)), "khoi": (VOLUME, Decimal(1000)), "met khoi": (VOLUME, Decimal(1000)),
}
_REGIONAL = ("sao", "cong", "mau")  # sào, công, mẫu: 360, 500 or 1.000 m² (and more) by region
_NUMBER = re.compile(r"(?<![a-z])\d[\d.,]*")
_LEADING_SEPARATOR = re.compile(r"(^|[^\d])[.,]\d")  # «.5», «,5»: write 0,5
_SHORT_MILLION = re.compile(r"(\d+)\s*tr\s*(\d)(?!\d)")  # «1tr2» = 1,2 triệu
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u207b\u208b\ufe58\ufe63\uff0d"
_MINUS = re.compile(rf"(^|[^\d.,\s])\s*[{_DASHES}]\s*\d")
_MINUS_WORD = re.compile(r"(^|\s)(tru|am)\s+\d")
_EXPONENT = re.compile(r"\d\s*(e[+-]?\s*\d|\^|\*\*|x\s*10)")


def _to_decimal(raw: str) -> Decimal:
    raw = raw.rstrip(".,")
    if "." in raw and "," in raw:  # 1.200,5 (Vietnamese) or 1,200.5 (English)
        first, second = (".", ",") if raw.rfind(",") > raw.rfind(".") else (",", ".")
        whole, _, frac = raw.rpartition(second)
        _check_groups(whole, first)
        raw = whole.replace(first, "") + "." + frac
    elif "," in raw:  # 1,5: a comma is the decimal mark; 1,200,000 is English-style grouping
        if raw.count(",") > 1:
            _check_groups(raw, ",")
            raw = raw.replace(",", "")
        else:
            raw = raw.replace(",", ".")
    elif "." in raw:
        groups = raw.split(".")
        if len(groups) > 2 or (len(groups[1]) == 3 and groups[0] != "0"):
            _check_groups(raw, ".")
            raw = raw.replace(".", "")  # 1.200 or 1.200.000
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise NumberError("malformed") from exc


def _check_groups(number: str, separator: str) -> None:
    """1.200.000 groups thousands; 1.2.3 or 12.00.000 does not."""
    head, *groups = number.split(separator)
    if not head or len(head) > 3 or any(len(g) != 3 for g in groups):
        raise NumberError("malformed")


def parse_number(text: str, *, unit: str | None = None, whole: bool = False) -> ParsedNumber:
    """Read one number ≥ 0 from ``text`` in the field's ``unit``; raise NumberError if unclear."""
    folded = _fold(text).strip()
    if not folded:
        raise NumberError("empty")
    if _MINUS.search(folded) or _MINUS_WORD.search(folded):
        raise NumberError("negative")
    if _EXPONENT.search(folded):
        raise NumberError("exponent")
    if _LEADING_SEPARATOR.search(folded):
        raise NumberError("malformed")
    spoken = bool(_SHORT_MILLION.search(folded)) or bool(re.search(rf"(^|\s){_HALF}(\s|$)", folded))
    folded = _SHORT_MILLION.sub(r"\1,\2 trieu", folded)
    numbers = list(_NUMBER.finditer(folded))
    if not numbers:
        raise NumberError("not_a_number")
    if len(numbers) > 1:
        raise NumberError("several_numbers")
    value = _to_decimal(numbers[0].group())
    approximate = spoken or any(re.search(rf"(^|\s){re.escape(w)}(\s|$)", folded) or folded.startswith(w)
                                for w in _APPROX)  # «khoảng 300», «1 tấn rưỡi», «1tr2»: shown back first
    # the words right after the number: a scale (nghìn, triệu), «rưỡi», then the unit
    after = re.findall(r"[a-z0-9]+", folded[numbers[0].end():].replace("²", "2").replace("³", "3"))
    scales = 0
    while after and after[0] in _SCALE_WORDS:
        scale = _SCALE_WORDS[after.pop(0)]
        scales += 1
        if scales > MAX_SCALE_WORDS:
            raise NumberError("exponent")
        if after and after[0] == _HALF:  # «2 nghìn rưỡi»
            after.pop(0)
            value += Decimal("0.5")
        value *= scale
    head = " " + " ".join(after[:2]) + " "
    typed = next((u for u in sorted(_MEASURED, key=len, reverse=True) if head.startswith(f" {u} ")), None)
    converted = None
    if typed is not None:
        rest = after[len(typed.split()):]
        if rest and rest[0] == _HALF:  # «1 tấn rưỡi»
            value += Decimal("0.5")
        value, converted = _convert(value, typed, unit)
    elif any(head.startswith(f" {u} ") for u in _REGIONAL):
        raise NumberError("regional_unit", unit=unit or "")
    elif (found := next((u for u in _UNKNOWN_UNITS if head.startswith(f" {u} ")), None)) is not None:
        raise NumberError("wrong_unit", typed=shown_unit(found), unit=unit or "")
    elif unit is not None:
        _check_counted(head, unit)
    if whole and value != value.to_integral_value():
        raise NumberError("not_whole")
    return ParsedNumber(value.normalize() if value else Decimal(0), approximate, converted)


def shown_unit(folded: str) -> str:
    """A folded unit word as the person would write it («ta» → «tạ»)."""
    return _SHOWN.get(folded, folded)


_FIELD_UNITS = {"kg": "kg", "tấn": "tan", "ha": "ha", "m²": "m2", "lít": "lit", "m³": "m3"}


def _convert(value: Decimal, typed: str, unit: str | None) -> tuple[Decimal, str | None]:
    measure, size = _MEASURED[typed]
    field = _MEASURED.get(_FIELD_UNITS.get(unit or "", ""))
    if unit is None:
        return value, None
    if field is None or field[0] != measure:
        raise NumberError("wrong_unit", typed=shown_unit(typed), unit=unit)
    if size == field[1]:
        return value, None
    return value * size / field[1], typed


def _check_counted(head: str, unit: str) -> None:
    """A counted unit (hộ, con, người …) may follow a number of that unit, but no other one."""
    folded = " ".join(re.findall(r"[a-z0-9]+", _fold(unit)))
    found = next((o for o in sorted(_COUNTED, key=len, reverse=True) if head.startswith(f" {o} ")), None)
    if found is not None and found != folded:
        raise NumberError("wrong_unit", typed=shown_unit(found), unit=unit)


def format_number(value: Decimal | float | int) -> str:
    """1200 → '1.200', 1.5 → '1,5' (Vietnamese style)."""
    d = Decimal(str(value)).normalize()
    sign = d.is_signed()
    whole, _, frac = f"{abs(d):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return ("-" if sign else "") + grouped + ("," + frac if frac else "")
