"""The report a Sở sends to the provincial People's Committee, as a Word document (.docx).

In the shape of an administrative document (Nghị định 30/2020/NĐ-CP): the agency and the
national motto side by side, the place and date line, the title «BÁO CÁO / Kết quả thực hiện
…», a short paragraph per indicator (value, target, progress on the path to the target when
known, communes reporting), the completeness table with the units that have not reported, and
the signature block («Nơi nhận» / «GIÁM ĐỐC»). Times New Roman, A4 portrait.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from reporting import measures
from reporting.completeness import FormCompleteness
from reporting.exports import (
    EXCEEDED,
    REACHED,
    Progress,
    fmt_number,
    gap_text,
    progress_basis,
    shown_value,
    target_text,
    value_text,
)
from reporting.indicators import IndicatorReport, IndicatorResult
from reporting.letterhead import Letterhead, letterhead
from reporting.progress import Assessment

FONT = "Times New Roman"
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
SIGNER = "GIÁM ĐỐC"
MISSING_LISTED = 200  # units listed by name in the annex table; more are counted


def period_phrase(report: IndicatorReport) -> str:
    """«năm 2026», «6 tháng cuối năm 2026», «quý 3/2026» (inside a sentence)."""
    name = report.period.name
    return name[0].lower() + name[1:]


def title_line(report: IndicatorReport) -> str:
    """«Kết quả thực hiện Kế hoạch … (Lạng Sơn), 6 tháng cuối năm 2026»."""
    return f"Kết quả thực hiện kế hoạch «{report.plan.name}», {period_phrase(report)}"


def _style(document: Any) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(3)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)


def _para(container: Any, text: str = "", *, bold: bool = False, italic: bool = False, size: float | None = None,
          align: Any = None, underline: bool = False, indent: bool = False) -> Paragraph:
    paragraph = container.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline = bold, italic, underline
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1.0)
    paragraph.paragraph_format.space_after = Pt(2)
    return paragraph


def _borderless(table: Table) -> None:
    borders = table._tbl.tblPr.first_child_found_in("w:tblBorders")
    if borders is not None:
        table._tbl.tblPr.remove(borders)


def _heading_block(document: Any, head: Letterhead) -> None:
    """Agency (left) and the national motto with the place and date (right)."""
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    center = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].add_run(f"UBND {head.province.upper()}").font.size = Pt(12)
    left.paragraphs[0].alignment = center
    _para(left, head.agency_short.upper(), bold=True, size=12, align=center, underline=True)
    _para(left, "Số:      /BC-SNNMT", size=12, align=center)
    motto = right.paragraphs[0].add_run(MOTTO[0])
    motto.bold, motto.font.size = True, Pt(12)
    right.paragraphs[0].alignment = center
    _para(right, MOTTO[1], bold=True, size=13, align=center, underline=True)
    _para(right, head.dated_line, italic=True, size=13, align=center)


def indicator_paragraph(result: IndicatorResult, assessment: Assessment | None = None, *,
                        half_yearly_only: bool = False) -> str:
    """One indicator in a sentence or two, with its real figures (``half_yearly_only``: the period
    is a quarter or a month, which half-yearly reports cannot give)."""
    title = result.definition.title
    if result.definition.not_collected or result.definition.numerator is None:
        return f"{title}: chưa thu thập qua báo cáo của các đơn vị. {result.definition.not_collected or ''}".strip()
    value = shown_value(result)
    parts = []
    if value is None:
        numerator = result.definition.numerator
        if half_yearly_only and numerator is not None and numerator.form not in measures.DATED_FORMS:
            why = ""  # a quarter or a month of a half-yearly figure: the note says why
        elif result.communes_reporting == 0:
            why = " (chưa có xã nào báo cáo đủ số liệu)"
        else:
            why = " (các xã báo cáo chưa đủ số liệu để tính)"
        parts.append(f"{title}: chưa tính được{why}")
    else:
        unit = result.definition.unit
        sentence = f"{title}: đạt {value_text(result)}"
        num, den = measures.numerator(result.definition), measures.denominator(result.definition)
        if den is not None and result.numerator is not None and result.denominator and num is not None:
            sentence += (f" ({fmt_number(result.numerator, measures.digits(num.unit))} {num.unit} / "
                         f"{fmt_number(result.denominator, measures.digits(den.unit))} {den.unit})")
        parts.append(sentence)
        goal = target_text(result)
        if goal is not None:
            year = f" vào năm {result.target_year}" if result.target_year else ""
            gap = gap_text(result)
            reached = gap in (EXCEEDED, REACHED)
            target_unit = "" if unit == "%" else f" {unit}"
            parts.append(f"mục tiêu {goal}{target_unit}{year}, " + (gap.lower() if reached else f"còn thiếu {gap}"))
    progress = progress_sentence(assessment)
    if progress:
        parts.append(progress)
    text = "; ".join(parts) + "."
    if assessment is not None and assessment.history_text:
        text += f" Qua các kỳ: {assessment.history_text}."
    text += f" Số liệu của {result.communes_reporting}/{result.communes_total} xã có báo cáo."
    if result.note:
        text += f" Ghi chú: {result.note}"
    return text


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if text else text


def progress_sentence(assessment: Assessment | None) -> str:
    """«so với lộ trình đến năm 2030: chậm (chậm 4,2 điểm % so với lộ trình; mức cần đạt theo lộ
    trình 62 %)»; nothing without a path (no numeric target, no data) or once the target is reached
    (the target clause says so)."""
    if assessment is None or assessment.status in ("no_target", "no_data", "reached"):
        return ""
    head = f"so với lộ trình đến năm {assessment.target_year}"
    basis = progress_basis(assessment)
    if assessment.at_start:
        return f"{head}: {_lower(assessment.gap_text)}" + (f", {basis}" if basis else "")
    details = [_lower(assessment.gap_text)]
    if assessment.expected_now is not None:
        unit = assessment.unit
        details.append(f"mức cần đạt theo lộ trình {fmt_number(assessment.expected_now, measures.digits(unit))} {unit}")
    if basis:
        details.append(basis)
    return f"{head}: {assessment.status_label} ({'; '.join(details)})"


def _grid(document: Any, header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text, width in zip(table.rows[0].cells, header, widths, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(11)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.width = Cm(width)
    for values in rows:
        cells = table.add_row().cells
        for cell, text, width in zip(cells, values, widths, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).font.size = Pt(11)
            cell.width = Cm(width)
    return table


def _completeness(document: Any, completeness: list[FormCompleteness]) -> None:
    rows = []
    for i, fc in enumerate(completeness, start=1):
        rate = "—" if fc.rate is None else f"{fmt_number(fc.rate)} %"
        rows.append([str(i), fc.title, fc.period_name, fc.deadline.strftime("%d/%m/%Y") if fc.deadline else "—",
                     str(fc.expected), str(fc.received), str(fc.on_time), rate])
    _grid(document, ["STT", "Mẫu báo cáo", "Kỳ", "Hạn nộp", "Phải nộp", "Đã nhận", "Đúng hạn", "Tỷ lệ nhận"],
          rows, [1.0, 3.4, 3.2, 2.2, 1.6, 1.6, 1.6, 1.8])
    missing = [(name, fc.title) for fc in completeness for name in fc.missing]
    if not missing:
        _para(document, "Tất cả các đơn vị đã gửi báo cáo.", indent=True)
        return
    _para(document, f"Các đơn vị chưa gửi báo cáo ({len(missing)} đơn vị):", indent=True)
    listed = missing[:MISSING_LISTED]
    _grid(document, ["STT", "Đơn vị chưa báo cáo", "Mẫu báo cáo"],
          [[str(i), name, form] for i, (name, form) in enumerate(listed, start=1)], [1.0, 10.0, 5.0])
    if len(missing) > len(listed):
        _para(document, f"Và {len(missing) - len(listed)} đơn vị khác (xem bảng tính kèm theo).", italic=True)


def _signature(document: Any, head: Letterhead) -> None:
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8.0), Cm(8.0)
    run = left.paragraphs[0].add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in (f"- UBND {head.province} (b/c);", "- Lãnh đạo Sở;", "- Lưu: VT."):
        _para(left, line, size=11)
    right.paragraphs[0].add_run(SIGNER).bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(right, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)


def to_docx(report: IndicatorReport, completeness: list[FormCompleteness], *, agency: str | None = None,
            today: date | None = None, progress: Progress | None = None) -> bytes:
    """The report document; arguments as for ``reporting.exports.to_xlsx``."""
    head = letterhead(report.plan, agency=agency, today=today)
    document = Document()
    _style(document)
    _heading_block(document, head)
    _para(document)
    _para(document, "BÁO CÁO", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(document, title_line(report), bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(document, f"Kính gửi: Ủy ban nhân dân {head.province}", align=WD_ALIGN_PARAGRAPH.CENTER)
    plan, period = report.plan, report.period
    _para(document, f"Căn cứ {plan.document}; {head.agency} báo cáo kết quả thực hiện {period_phrase(report)} "
                    f"(số liệu từ {period.start(plan.cutoff_day):%d/%m/%Y} đến {period.end(plan.cutoff_day):%d/%m/%Y}, "
                    f"tổng hợp ngày {head.date_text}) như sau:", indent=True,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _para(document, "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", bold=True)
    for number, result in enumerate(report.results, start=1):
        paragraph = _para(document, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        paragraph.add_run(f"{number}. ").bold = True
        paragraph.add_run(indicator_paragraph(result, (progress or {}).get(result.id),
                                              half_yearly_only=period.kind in ("Q", "M")))
    _para(document, "II. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ", bold=True)
    if completeness:
        _completeness(document, completeness)
    else:
        _para(document, "Kỳ này không có mẫu báo cáo định kỳ phải nộp.", indent=True)
    _para(document)
    _signature(document, head)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
