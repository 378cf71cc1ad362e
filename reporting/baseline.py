"""Baseline import (per commune and year) from CSV or Excel: all rows valid, or nothing written.

Columns (header row, any order): commune_code, year, livestock_households, farms,
cooperatives, extension_staff, straw_generated_t, byproducts_generated_t, aquaculture_area_ha;
optional bio_enterprises (a province-level figure, the same on every row of a province and year)
and commune_name (ignored, for people reading the file). Empty cells are "not known".
Importing again replaces the figures of the same commune and year.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting import areas
from reporting.models import Baseline, ProvinceBaseline
from reporting.numbers import NumberError, parse_number
from reporting.reports import BASELINE_FIELDS

REQUIRED = ("commune_code", "year")
OPTIONAL = ("commune_name", "bio_enterprises")
WHOLE = {"livestock_households", "farms", "cooperatives", "extension_staff", "bio_enterprises"}


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"dòng {self.row}, cột {self.column}: {self.reason}"


class BaselineError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    communes: int
    provinces: int


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [list(r) for r in csv.reader(f)]
    else:
        raise BaselineError([RowError(0, "file", "chỉ nhận tệp .csv hoặc .xlsx")])
    if not rows:
        raise BaselineError([RowError(1, "header", "tệp trống")])
    header = [str(h or "").strip().lower() for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(c not in (None, "") for c in r)]


def _number(raw: Any, column: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if raw < 0:
            raise NumberError("negative")
        value = Decimal(str(raw))
    else:
        value = parse_number(str(raw)).value
    if column in WHOLE and value != value.to_integral_value():
        raise NumberError("not_whole")
    return float(value)


_REASONS = {
    "negative": "số âm", "not_a_number": "không phải là số", "not_whole": "phải là số nguyên",
    "several_numbers": "có nhiều hơn một số", "empty": "trống", "wrong_unit": "sai đơn vị",
}


def import_file(session: Session, path: Path, *, now: datetime) -> ImportResult:
    """Validate every row, then write them all (upsert); raise BaselineError listing each problem."""
    rows = read_rows(path)
    header = set(rows[0]) if rows else set()
    errors: list[RowError] = []
    known = set(REQUIRED) | set(BASELINE_FIELDS) | set(OPTIONAL)
    errors += [RowError(1, c, "thiếu cột bắt buộc") for c in REQUIRED if rows and c not in header]
    errors += [RowError(1, c, "cột không biết") for c in sorted(header - known) if c]
    if errors:
        raise BaselineError(errors)
    parsed: dict[tuple[int, int], dict[str, float | None]] = {}
    province_figures: dict[tuple[int, int], float] = {}
    for number, row in enumerate(rows, start=2):
        try:
            code = int(str(row["commune_code"]).strip())
            commune = areas.commune(code)
            if commune is None:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(RowError(number, "commune_code", f"không có xã/phường mã «{row.get('commune_code')}»"))
            continue
        try:
            year = int(str(row["year"]).strip())
            if not 2000 <= year <= 2100:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(RowError(number, "year", f"năm không hợp lệ «{row.get('year')}»"))
            continue
        if (code, year) in parsed:
            errors.append(RowError(number, "commune_code", f"trùng xã {code} năm {year} với dòng trước"))
            continue
        values: dict[str, float | None] = {}
        for column in BASELINE_FIELDS:
            try:
                values[column] = _number(row.get(column), column)
            except NumberError as exc:
                errors.append(RowError(number, column, f"{_REASONS.get(exc.code, exc.code)} «{row.get(column)}»"))
        parsed[(code, year)] = values
        if "bio_enterprises" in row:
            try:
                figure = _number(row.get("bio_enterprises"), "bio_enterprises")
            except NumberError as exc:
                errors.append(RowError(number, "bio_enterprises", _REASONS.get(exc.code, exc.code)))
                continue
            if figure is not None:
                key = (commune.province_code, year)
                if key in province_figures and province_figures[key] != figure:
                    errors.append(RowError(number, "bio_enterprises", "khác với dòng trước cùng tỉnh, cùng năm"))
                province_figures[key] = figure
    if errors:
        raise BaselineError(errors)
    for (code, year), values in parsed.items():
        row_obj = session.scalar(select(Baseline).where(Baseline.commune_code == code, Baseline.year == year))
        commune = areas.commune(code)
        assert commune is not None
        if row_obj is None:
            row_obj = Baseline(commune_code=code, year=year, province_code=commune.province_code)
            session.add(row_obj)
        for column, value in values.items():
            setattr(row_obj, column, value)
        row_obj.imported_at = now
    for (province_code, year), figure in province_figures.items():
        prow = session.scalar(select(ProvinceBaseline).where(
            ProvinceBaseline.province_code == province_code, ProvinceBaseline.year == year))
        if prow is None:
            prow = ProvinceBaseline(province_code=province_code, year=year)
            session.add(prow)
        prow.bio_enterprises = figure
        prow.imported_at = now
    session.flush()
    return ImportResult(communes=len(parsed), provinces=len(province_figures))
