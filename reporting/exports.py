"""Indicator exports an official forwards: a table, JSON, CSV and an Excel workbook."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reporting.completeness import FormCompleteness
from reporting.indicators import STATUS_LABELS, IndicatorReport, IndicatorResult
from reporting.numbers import format_number

STATUS = STATUS_LABELS
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def sheet_name(number: int, title: str) -> str:
    """An Excel sheet name from the indicator's Vietnamese title: numbered, ≤ 31 characters."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    name = f"{number}. {clean}"
    return name if len(name) <= 31 else name[:30].rstrip() + "…"


def fmt_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_number(round(value, digits))


def value_text(result: IndicatorResult) -> str:
    unit = result.definition.unit
    if result.value is None:
        return "chưa tính được"
    return f"{fmt_number(result.value)} %" if unit == "%" else f"{fmt_number(result.value, 2)} {unit}"


def target_text(result: IndicatorResult) -> str | None:
    if result.target is None:
        return None
    return f"{fmt_number(result.target)} %" if result.definition.unit == "%" else fmt_number(result.target)


def to_json(report: IndicatorReport, completeness: list[FormCompleteness]) -> dict[str, Any]:
    return {**report.to_dict(), "completeness": [c.to_dict() for c in completeness]}


def to_table(report: IndicatorReport, completeness: list[FormCompleteness]) -> str:
    plan, period = report.plan, report.period
    lines = [plan.document, f"Kỳ: {period.label(plan.cutoff_day)}", ""]
    rows = [("Chỉ tiêu", "Giá trị", "Mục tiêu", "Còn thiếu", "Xã báo cáo")]
    for r in report.results:
        target = target_text(r) or "—"
        gap = "—" if r.gap is None else fmt_number(r.gap)
        rows.append((r.definition.title, value_text(r), target, gap, f"{r.communes_reporting}/{r.communes_total}"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    for i, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(widths[j]) for j, c in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if completeness:
        lines += ["", "Tình hình báo cáo:"]
        for c in completeness:
            deadline = f", hạn {c.deadline:%d/%m/%Y}" if c.deadline else ""
            lines.append(f"  {c.title} ({c.period_name}{deadline}): nhận {c.received}/{c.expected}, "
                         f"đúng hạn {c.on_time}/{c.expected}")
    notes = [f"  {r.definition.title}: {r.note}" for r in report.results if r.note]
    if notes:
        lines += ["", "Ghi chú:", *notes]
    return "\n".join(lines) + "\n"


def to_csv(report: IndicatorReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["plan", "period", "indicator", "title", "unit", "commune_code", "commune", "numerator",
                     "denominator", "value", "status", "target"])
    for r in report.results:
        ratio = r.definition.is_ratio
        writer.writerow([report.plan.id, report.period.id, r.id, r.definition.title, r.definition.unit, "",
                         "Toàn tỉnh", r.numerator, r.denominator,
                         None if r.value is None else round(r.value, 2), "", r.target])
        for c in r.by_commune:
            value = c.value(ratio)
            writer.writerow([report.plan.id, report.period.id, r.id, r.definition.title, r.definition.unit, c.code,
                             c.name, c.numerator, c.denominator, None if value is None else round(value, 2),
                             c.status, ""])
    return out.getvalue()


def _header(ws: Any, row: int, titles: list[str], widths: list[int]) -> None:
    for col, (title, width) in enumerate(zip(titles, widths, strict=True), start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _title(ws: Any, report: IndicatorReport, subtitle: str) -> None:
    ws["A1"] = report.plan.document
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = f"Kỳ báo cáo: {report.period.label(report.plan.cutoff_day)}"
    ws["A3"] = subtitle


def to_xlsx(report: IndicatorReport, completeness: list[FormCompleteness]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    _title(ws, report, "Tổng hợp chỉ tiêu (giá trị toàn tỉnh = tổng tử số / tổng mẫu số của các xã có số liệu)")
    titles = ["Chỉ tiêu", "Đơn vị", "Mục tiêu", "Năm mục tiêu", "Tử số", "Mẫu số", "Giá trị", "Còn thiếu",
              "Số xã có báo cáo", "Tổng số xã", "Ghi chú"]
    _header(ws, 5, titles, [48, 10, 10, 12, 14, 14, 12, 12, 14, 12, 50])
    for i, r in enumerate(report.results, start=6):
        values = [r.definition.title, r.definition.unit, r.target, r.target_year, r.numerator, r.denominator,
                  None if r.value is None else round(r.value, 2), None if r.gap is None else round(r.gap, 2),
                  r.communes_reporting, r.communes_total, r.note or ""]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=col, value=value)
            if col in (5, 6):
                cell.number_format = "#,##0.##"
            elif col in (3, 7, 8):
                cell.number_format = "0.0"
    for number, r in enumerate(report.results, start=1):
        sheet = wb.create_sheet(sheet_name(number, r.definition.title))
        _title(sheet, report, f"{r.definition.title} ({r.definition.unit}) theo xã")
        _header(sheet, 5, ["Mã xã", "Xã", "Tử số", "Mẫu số", "Giá trị", "Tình trạng"], [10, 30, 14, 14, 12, 22])
        ratio = r.definition.is_ratio
        for i, c in enumerate(r.by_commune, start=6):
            value = c.value(ratio)
            for col, v in enumerate([c.code, c.name, c.numerator, c.denominator,
                                     None if value is None else round(value, 2), c.status_label], start=1):
                cell = sheet.cell(row=i, column=col, value=v)
                if col in (3, 4):
                    cell.number_format = "#,##0.##"
                elif col == 5:
                    cell.number_format = "0.0"
    if completeness:
        sheet = wb.create_sheet("Tình hình báo cáo")
        _title(sheet, report, "Báo cáo nhận được và đúng hạn")
        _header(sheet, 5, ["Mẫu báo cáo", "Kỳ", "Hạn nộp", "Phải nộp", "Đã nhận", "Đúng hạn", "Tỷ lệ nhận (%)",
                           "Tỷ lệ đúng hạn (%)", "Chưa báo cáo"], [24, 10, 12, 10, 10, 10, 14, 16, 80])
        for i, fc in enumerate(completeness, start=6):
            values = [fc.title, fc.period_name, fc.deadline.strftime("%d/%m/%Y") if fc.deadline else "",
                      fc.expected, fc.received, fc.on_time, None if fc.rate is None else round(fc.rate, 1),
                      None if fc.timeliness is None else round(fc.timeliness, 1), ", ".join(fc.missing)]
            for col, v in enumerate(values, start=1):
                sheet.cell(row=i, column=col, value=v)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
