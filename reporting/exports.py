"""Indicator exports an official forwards: a table, JSON, CSV and an Excel workbook.

The workbook is made to be sent as it is: Vietnamese sheet names, the agency, the plan's
document, the period as people read it and the export date on every sheet, units in every
numeric column, figures rounded as a person writes them, one unit that has not reported per
row, and an A4 landscape print setup that repeats the table's header row on every page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from reporting import measures
from reporting.clock import local_date
from reporting.completeness import FormCompleteness
from reporting.indicators import STATUS_LABELS, CommuneValue, IndicatorReport, IndicatorResult
from reporting.letterhead import Letterhead, letterhead
from reporting.numbers import format_number
from reporting.periods import Period
from reporting.plans import Plan
from reporting.progress import Assessment, assess_plan, commune_standings

Progress = Mapping[str, Assessment]  # the on-track assessment per indicator id

STATUS = STATUS_LABELS
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
EXCEEDED, REACHED = "Vượt mục tiêu", "Đạt mục tiêu"


def sheet_name(number: int, title: str) -> str:
    """An Excel sheet name from the indicator's Vietnamese title: numbered, ≤ 31 characters."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    name = f"{number}. {clean}"
    return name if len(name) <= 31 else name[:30].rstrip() + "…"


def fmt_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_number(round(value, digits))


def shown_value(result: IndicatorResult) -> float | None:
    """The province value (a real 0 stays 0: trainings in a commune that reported and held none)."""
    return result.value


def commune_value(result: IndicatorResult, commune: CommuneValue) -> float | None:
    return commune.value(result.definition.is_ratio)


NOT_COLLECTED = "không thu qua báo cáo"


def commune_status(result: IndicatorResult, commune: CommuneValue) -> str:
    if result.definition.not_collected or result.definition.numerator is None:
        return NOT_COLLECTED  # nobody was asked: not «chưa báo cáo»
    return commune.status_label


def value_text(result: IndicatorResult) -> str:
    unit = result.definition.unit
    value = shown_value(result)
    if value is None:
        return "chưa tính được"
    return f"{fmt_number(value, measures.digits(unit))} {unit}"


def target_text(result: IndicatorResult) -> str | None:
    if result.target is None:
        return None
    unit = result.definition.unit
    return f"{fmt_number(result.target)} %" if unit == "%" else fmt_number(result.target, measures.digits(unit))


def gap_unit(result: IndicatorResult) -> str:
    """Percentages differ by points («điểm %»), other figures in their own unit."""
    return "điểm %" if result.definition.unit == "%" else result.definition.unit


def gap_text(result: IndicatorResult) -> str:
    """«còn thiếu 22,2 điểm %», «Vượt mục tiêu» or «Đạt mục tiêu»; «—» without a target or value."""
    value = shown_value(result)
    if result.target is None or value is None:
        return "—"
    gap = rounded_gap(result)
    if gap is None:
        return "—"
    if gap < 0:
        return EXCEEDED
    if gap == 0:
        return REACHED
    return f"{fmt_number(gap, measures.digits(result.definition.unit))} {gap_unit(result)}"


def rounded_gap(result: IndicatorResult) -> float | int | None:
    """Target − value as a person writes it (on rounded figures, so that 80 − 79,96 is not 0,04)."""
    value = shown_value(result)
    if result.target is None or value is None:
        return None
    unit = result.definition.unit
    return measures.rounded((measures.rounded(result.target, unit) or 0) - (measures.rounded(value, unit) or 0),
                            unit)


def to_json(report: IndicatorReport, completeness: list[FormCompleteness], progress: Progress | None = None
            ) -> dict[str, Any]:
    """The figures; with ``progress`` each indicator carries its ``assessment`` (as the API's)."""
    data = {**report.to_dict(), "completeness": [c.to_dict() for c in completeness]}
    if progress is not None:
        for row in data["indicators"]:
            if row["id"] in progress:
                row["assessment"] = progress[row["id"]].to_dict()
    return data


def to_table(report: IndicatorReport, completeness: list[FormCompleteness]) -> str:
    plan, period = report.plan, report.period
    lines = [plan.document, f"Kỳ: {period.label(plan.cutoff_day)}", ""]
    rows = [("Chỉ tiêu", "Giá trị", "Mục tiêu", "Còn thiếu", "Xã báo cáo")]
    for r in report.results:
        target = target_text(r) or "—"
        gap = gap_text(r)
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


# -- the workbook ---------------------------------------------------------------------------------
HEADER_ROW = 7  # rows 1–5: agency, document, period, export date, what the sheet shows; row 7: columns
FIRST_ROW = HEADER_ROW + 1


def number_format(unit: str) -> str:
    """Excel's format for a figure in ``unit``, the unit written in the cell: «60.884,4 tấn»."""
    places = "#,##0" if measures.digits(unit) == 0 else "#,##0.0"
    return f'{places} "{unit}"' if unit else places


def _letterhead_rows(ws: Worksheet, report: IndicatorReport, head: Letterhead, subtitle: str, width: int) -> None:
    plan = report.plan
    rows = [(head.agency, Font(bold=True, size=12)),
            (plan.document, Font(italic=True)),
            (f"Kỳ báo cáo: {report.period.label(plan.cutoff_day)}", Font(bold=True)),
            (f"Ngày xuất số liệu: {head.date_text}", Font()),
            (subtitle, Font(bold=True, size=12))]
    last = get_column_letter(max(width, 1))
    for number, (text, font) in enumerate(rows, start=1):
        cell = ws.cell(row=number, column=1, value=text)
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if width > 1:
            ws.merge_cells(f"A{number}:{last}{number}")
    ws.row_dimensions[2].height = 32  # the document's name takes two lines


def _columns(ws: Worksheet, titles: list[str], widths: list[int]) -> None:
    for col, (title, width) in enumerate(zip(titles, widths, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=1)


def _row(ws: Worksheet, row: int, values: list[tuple[Any, str | None]]) -> None:
    """One table row: (value, number format or None) per column."""
    for col, (value, fmt) in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if fmt and isinstance(value, int | float):
            cell.number_format = fmt


def _print_setup(ws: Worksheet, head: Letterhead) -> None:
    """A4 landscape, one page wide, the column header repeated on every page, page numbers."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.left.text = head.agency
    ws.oddFooter.right.text = "Trang &P/&N"


def progress_by_indicator(session: Session, plan: Plan, period: Period, *, today: date | None = None
                          ) -> dict[str, Assessment] | None:
    """The plan's on-track assessment at ``period`` (the whole province), per indicator id; None
    for a period after next year (nothing to judge, and its history would be long to compute)."""
    if period.year > (today or local_date(datetime.now(UTC))).year + 1:
        return None
    return {a.indicator_id: a for a in assess_plan(session, plan, period)}


def _progress_of(progress: Progress | None, result: IndicatorResult) -> Assessment | None:
    return (progress or {}).get(result.id)


def progress_basis(assessment: Assessment) -> str | None:
    """«theo số liệu năm 2026» when the status is judged on another period than the one asked
    (a half-year's view judged on its year)."""
    if assessment.latest is None or assessment.latest_is_current or assessment.status == "no_data":
        return None
    name = assessment.latest.period.name
    return f"theo số liệu {name[0].lower()}{name[1:]}"


def progress_gap_text(assessment: Assessment) -> str:
    """The gap to the path, and the period of the figure when it is not the period asked."""
    basis = progress_basis(assessment)
    return assessment.path_gap_text + (f" ({basis})" if basis else "")


def _summary(ws: Worksheet, report: IndicatorReport, head: Letterhead, progress: Progress | None) -> None:
    with_progress = progress is not None
    titles = ["STT", "Chỉ tiêu", "Đơn vị", "Giá trị", "Mục tiêu", "Năm mục tiêu", "Còn thiếu so với mục tiêu"]
    widths = [5, 42, 10, 13, 11, 9, 15]
    if with_progress:
        titles += ["Mức cần đạt theo lộ trình", "Tiến độ so với lộ trình", "Chênh lệch với lộ trình"]
        widths += [13, 14, 30]
    titles += ["Tử số", "Mẫu số", "Số xã có số liệu", "Tổng số xã", "Cách tính", "Ghi chú"]
    widths += [15, 15, 10, 9, 55, 45]
    _letterhead_rows(ws, report, head, "Tổng hợp kết quả các chỉ tiêu (giá trị toàn tỉnh = tổng tử số / tổng "
                     "mẫu số của các xã có đủ số liệu)", len(titles))
    _columns(ws, titles, widths)
    for number, r in enumerate(report.results, start=1):
        unit = r.definition.unit
        num, den = measures.numerator(r.definition), measures.denominator(r.definition)
        gap = rounded_gap(r)
        gap_cell: tuple[Any, str | None] = (
            (None, None) if gap is None else (EXCEEDED, None) if gap < 0 else (REACHED, None) if gap == 0
            else (gap, number_format(gap_unit(r))))
        values: list[tuple[Any, str | None]] = [
            (number, None), (r.definition.title, None), (unit, None),
            (measures.rounded(shown_value(r), unit), number_format(unit)),
            (measures.rounded(r.target, unit), number_format(unit)), (r.target_year, "0"), gap_cell]
        if with_progress:
            assessment = _progress_of(progress, r)
            expected = None if assessment is None or assessment.at_start else assessment.expected_now
            values += [(measures.rounded(expected, unit), number_format(unit)),
                       ("" if assessment is None else assessment.status_label, None),
                       ("" if assessment is None else progress_gap_text(assessment), None)]
        values += [
            (None if num is None else measures.rounded(r.numerator, num.unit),
             None if num is None else number_format(num.unit)),
            (None if den is None else measures.rounded(r.denominator, den.unit),
             None if den is None else number_format(den.unit)),
            (r.communes_reporting, "0"), (r.communes_total, "0"),
            (measures.explanation(r.definition), None), (r.note or "", None)]
        _row(ws, FIRST_ROW + number - 1, values)


def _by_commune(ws: Worksheet, report: IndicatorReport, head: Letterhead, r: IndicatorResult,
                progress: Progress | None) -> None:
    unit = r.definition.unit
    num, den = measures.numerator(r.definition), measures.denominator(r.definition)
    titles, widths = ["STT", "Mã xã", "Xã"], [5, 8, 26]
    if num is not None:
        titles.append(f"Tử số: {num.heading}" if den is not None else num.heading)
        widths.append(20)
    if den is not None:
        titles.append(f"Mẫu số: {den.heading}")
        widths.append(20)
    breakdown = list(r.definition.breakdown.items())
    titles += [f"Trong đó: {label} ({num.unit if num else unit})" for _, label in breakdown]
    widths += [14] * len(breakdown)
    if den is not None:
        titles.append(f"Giá trị ({unit})")
        widths.append(12)
    assessment = _progress_of(progress, r)
    path_now = None
    if assessment is not None and assessment.path is not None and assessment.period is not None and den is not None:
        path_now = assessment.path.value_at(assessment.period)
    standings = {s.code: s for s in commune_standings(assessment, r)} if path_now is not None and assessment \
        else {}
    if standings:
        titles.append("So với lộ trình của tỉnh")
        widths.append(16)
    titles.append("Tình trạng số liệu")
    widths.append(28)
    subtitle = f"{r.definition.title} theo xã"
    if path_now is not None:
        subtitle += f" (mức cần đạt theo lộ trình của tỉnh trong kỳ: {fmt_number(path_now)} {unit})"
    explained = measures.explanation(r.definition)
    _letterhead_rows(ws, report, head, subtitle + (f". {explained}" if explained else ""), len(titles))
    ws.row_dimensions[5].height = 45
    for i, c in enumerate(r.by_commune, start=1):
        value = commune_value(r, c)
        values: list[tuple[Any, str | None]] = [(i, None), (c.code, "0"), (c.name, None)]
        if num is not None:
            shown = c.numerator if c.numerator is not None and not c.missing_parts else \
                (value if den is None else None)
            values.append((measures.rounded(shown, num.unit), number_format(num.unit)))
        if den is not None:
            values.append((measures.rounded(c.denominator, den.unit) if c.denominator else None,
                           number_format(den.unit)))
        values += [(measures.rounded(c.extra.get(key), num.unit if num else unit), number_format(num.unit if num
                                                                                              else unit))
                   for key, _ in breakdown]
        if den is not None:
            values.append((measures.rounded(value, unit), number_format(unit)))
        if standings:
            standing = standings.get(c.code)
            values.append(("" if standing is None or standing.status == "no_data" else standing.status_label, None))
        values.append((commune_status(r, c), None))
        _row(ws, FIRST_ROW + i - 1, values)
    _columns(ws, titles, widths)


def _completeness(ws: Worksheet, report: IndicatorReport, head: Letterhead,
                  completeness: list[FormCompleteness]) -> None:
    titles = ["STT", "Mẫu báo cáo", "Kỳ báo cáo", "Hạn nộp", "Phải nộp (đơn vị)", "Đã nhận (đơn vị)",
              "Đúng hạn (đơn vị)", "Tỷ lệ đã nhận (%)", "Tỷ lệ đúng hạn (%)", "Chưa báo cáo (đơn vị)"]
    _letterhead_rows(ws, report, head, "Tình hình nhận báo cáo của các đơn vị", len(titles))
    _columns(ws, titles, [5, 24, 22, 12, 11, 11, 11, 11, 11, 11])
    for i, fc in enumerate(completeness, start=1):
        _row(ws, FIRST_ROW + i - 1, [
            (i, None), (fc.title, None), (fc.period_name, None), (fc.deadline, "dd/mm/yyyy"),
            (fc.expected, "#,##0"), (fc.received, "#,##0"), (fc.on_time, "#,##0"),
            (None if fc.rate is None else round(fc.rate, 1), "0.0"),
            (None if fc.timeliness is None else round(fc.timeliness, 1), "0.0"),
            (len(fc.missing), "#,##0")])


def _missing(ws: Worksheet, report: IndicatorReport, head: Letterhead, completeness: list[FormCompleteness]) -> None:
    """One unit that has not reported per row."""
    titles = ["STT", "Đơn vị chưa báo cáo", "Mẫu báo cáo", "Kỳ báo cáo", "Hạn nộp"]
    _letterhead_rows(ws, report, head, "Danh sách đơn vị chưa báo cáo", len(titles))
    _columns(ws, titles, [6, 50, 24, 24, 12])
    row = FIRST_ROW
    for fc in completeness:
        for name in fc.missing:
            _row(ws, row, [(row - FIRST_ROW + 1, None), (name, None), (fc.title, None), (fc.period_name, None),
                           (fc.deadline, "dd/mm/yyyy")])
            row += 1
    if row == FIRST_ROW:
        ws.cell(row=row, column=2, value="Mọi đơn vị đã báo cáo.")


def _over_the_years(ws: Worksheet, report: IndicatorReport, head: Letterhead, progress: Progress) -> None:
    """Each indicator's value in every year (and half-year) with data, beside the path there and
    the target: the trend to 2030 in figures."""
    titles = ["STT", "Chỉ tiêu", "Kỳ", "Giá trị", "Theo lộ trình", "Mục tiêu", "Số xã có số liệu"]
    _letterhead_rows(ws, report, head, "Tiến độ qua các năm (toàn tỉnh)", len(titles))
    _columns(ws, titles, [6, 48, 22, 14, 14, 18, 12])
    row, number = FIRST_ROW, 0
    for r in report.results:
        a = progress.get(r.id)
        if a is None or not a.history:
            continue
        number += 1
        unit, fmt = r.definition.unit, number_format(r.definition.unit)
        goal = f"{fmt_number(a.target, measures.digits(unit))} {unit} năm {a.target_year}" \
            if a.target is not None and a.target_year else "—"
        for point in a.history:
            expected = a.path.value_at(point.period) if a.path else None
            _row(ws, row, [(number, None), (r.definition.title, None), (point.period.name, None),
                           (None if point.value is None else round(point.value, measures.digits(unit)), fmt),
                           (None if expected is None else round(expected, measures.digits(unit)), fmt),
                           (goal, None), (f"{point.communes_reporting}/{point.communes_total}", None)])
            row += 1
    if row == FIRST_ROW:
        ws.cell(row=row, column=2, value="Chưa có số liệu năm nào.")


def to_xlsx(report: IndicatorReport, completeness: list[FormCompleteness], *, agency: str | None = None,
            today: date | None = None, progress: Progress | None = None) -> bytes:
    """The workbook: «Tổng hợp», one sheet per indicator by commune, «Tình hình báo cáo» and
    «Chưa báo cáo». ``agency``: the AGRIBOT_AGENCY_NAME setting (default: the plan's province's
    Sở Nông nghiệp và Môi trường); ``today``: the export date (default: today in Vietnam);
    ``progress``: the on-track assessment per indicator id (``progress_by_indicator``), for the
    whole province only."""
    head = letterhead(report.plan, agency=agency, today=today)
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    _summary(ws, report, head, progress)
    for number, r in enumerate(report.results, start=1):
        _by_commune(wb.create_sheet(sheet_name(number, r.definition.title)), report, head, r, progress)
    if progress:
        _over_the_years(wb.create_sheet("Tiến độ qua các năm"), report, head, progress)
    if completeness:
        _completeness(wb.create_sheet("Tình hình báo cáo"), report, head, completeness)
        _missing(wb.create_sheet("Chưa báo cáo"), report, head, completeness)
    for sheet in wb.worksheets:
        _print_setup(sheet, head)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
