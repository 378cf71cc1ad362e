"""Units of reporting over time: renamed, merged into another (its reports move), retired.

Every change is an audit line (``unit_changes``). A retired unit leaves completeness and can no
longer open a form; a merged unit is retired and points at the unit that took its reports.
Errors are Vietnamese sentences for the person who asked (CLI or dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting import areas
from reporting.models import Invite, Member, Report, ReportingUnit, UnitChange
from reporting.periods import parse
from reporting.vocabulary import UNIT_KIND, ReportStatus, UnitKind

KIND_LABELS: dict[str, str] = {UnitKind.COMMUNE: "xã", UnitKind.COOPERATIVE: "HTX",
                               UnitKind.FARM: "trang trại"}


class UnitError(ValueError):
    """Why a change cannot be made, in Vietnamese."""


@dataclass(frozen=True)
class UnitRow:
    unit: ReportingUnit
    commune: str
    province: str
    reports: int

    @property
    def where(self) -> str:
        return f"{self.commune}, {self.province}"


def _get(session: Session, unit_id: int) -> ReportingUnit:
    unit = session.get(ReportingUnit, unit_id)
    if unit is None:
        raise UnitError(f"Không có đơn vị số {unit_id}.")
    return unit


def describe(unit: ReportingUnit) -> str:
    commune = areas.commune(unit.commune_code)
    province = areas.province(unit.province_code)
    return f"{unit.name} ({KIND_LABELS.get(unit.kind, unit.kind)}, {commune.name if commune else unit.commune_code}, " \
           f"{province.name if province else unit.province_code})"


def listing(session: Session, *, province_code: int | None = None, include_retired: bool = True) -> list[UnitRow]:
    stmt = select(ReportingUnit).order_by(ReportingUnit.province_code, ReportingUnit.commune_code, ReportingUnit.name)
    if province_code is not None:
        stmt = stmt.where(ReportingUnit.province_code == province_code)
    if not include_retired:
        stmt = stmt.where(ReportingUnit.retired_at.is_(None))
    out = []
    for unit in session.scalars(stmt):
        commune = areas.commune(unit.commune_code)
        province = areas.province(unit.province_code)
        count = len(session.scalars(select(Report.id).where(
            Report.unit_id == unit.id, Report.status == ReportStatus.FILED)).all())
        out.append(UnitRow(unit, commune.name if commune else str(unit.commune_code),
                           province.name if province else str(unit.province_code), count))
    return out


def same_name(session: Session, *, kind: str, name: str) -> list[ReportingUnit]:
    """Units of that kind already named so (any commune), to warn before making another."""
    key = areas.fold(name)
    return [u for u in session.scalars(select(ReportingUnit).where(ReportingUnit.kind == kind))
            if areas.fold(u.name) == key]


def same_name_warnings(session: Session, *, role: str, name: str | None, commune_code: int | None) -> list[str]:
    """What to tell whoever makes an invite for a unit whose name is already taken."""
    kind = UNIT_KIND.get(role)
    if kind is None or kind == UnitKind.COMMUNE or not name:
        return []
    out = []
    for unit in same_name(session, kind=kind, name=name):
        effect = ("dành cho chính đơn vị đó" if unit.commune_code == commune_code
                  else "sẽ tạo một đơn vị mới ở xã đã chọn")
        out.append(f"Chú ý: đã có {KIND_LABELS[unit.kind]} cùng tên: {describe(unit)} (đơn vị số {unit.id}). "
                   f"Mã này {effect}; nếu nhầm, hãy thu hồi mã.")
    return out


def _audit(session: Session, unit: ReportingUnit, action: str, old: str | None, new: str | None, by: str,
           now: datetime) -> None:
    session.add(UnitChange(unit_id=unit.id, action=action, old_value=old, new_value=new, changed_by=by, changed_at=now))


def rename(session: Session, *, unit_id: int, name: str, by: str, now: datetime) -> ReportingUnit:
    unit = _get(session, unit_id)
    name = " ".join(name.split())
    if not name:
        raise UnitError("Tên mới trống.")
    if unit.kind == UnitKind.COMMUNE:
        raise UnitError("Tên xã lấy theo danh mục hành chính, không đổi ở đây.")
    clash = session.scalar(select(ReportingUnit).where(
        ReportingUnit.kind == unit.kind, ReportingUnit.commune_code == unit.commune_code,
        ReportingUnit.name == name, ReportingUnit.id != unit.id))
    if clash is not None:
        raise UnitError(f"Xã này đã có đơn vị tên «{name}» (số {clash.id}); hãy gộp hai đơn vị thay vì đổi tên.")
    old = unit.name
    unit.name = name
    roles = [role for role, kind in UNIT_KIND.items() if kind == unit.kind]
    for pending in session.scalars(select(Invite).where(  # codes not yet used join the renamed unit, not a twin
            Invite.role.in_(roles), Invite.commune_code == unit.commune_code, Invite.unit_name == old,
            Invite.used_at.is_(None), Invite.revoked_at.is_(None))):
        pending.unit_name = name
    _audit(session, unit, "rename", old, name, by, now)
    session.flush()
    return unit


def merge(session: Session, *, unit_id: int, into_id: int, by: str, now: datetime) -> int:
    """Move ``unit_id``'s reports and members to ``into_id`` and retire it; returns reports moved."""
    source, target = _get(session, unit_id), _get(session, into_id)
    if source.id == target.id:
        raise UnitError("Không gộp một đơn vị vào chính nó.")
    if source.merged_into_id is not None:
        raise UnitError(f"«{source.name}» đã được gộp vào đơn vị số {source.merged_into_id} từ trước.")
    if source.kind != target.kind:
        raise UnitError(f"Chỉ gộp được hai đơn vị cùng loại ({KIND_LABELS.get(source.kind)} ≠ "
                        f"{KIND_LABELS.get(target.kind)}).")
    if source.province_code != target.province_code:
        raise UnitError("Chỉ gộp được hai đơn vị trong cùng một tỉnh.")
    if target.retired_at is not None:
        raise UnitError(f"«{target.name}» đã ngừng báo cáo; hãy gộp vào đơn vị đang hoạt động.")
    moving = [*session.scalars(select(Report).where(
        Report.unit_id == source.id, Report.status != ReportStatus.CANCELLED))]
    taken = {(r.form, r.period) for r in session.scalars(select(Report).where(
        Report.unit_id == target.id, Report.status == ReportStatus.FILED))}
    clashes = sorted({r.period or "" for r in moving if r.status == ReportStatus.FILED and r.period
                      and r.form != "training" and (r.form, r.period) in taken})
    if clashes:
        named = ", ".join(parse(p).name for p in clashes)
        raise UnitError(f"Cả hai đơn vị đều đã nộp báo cáo kỳ {named}. Hãy sửa hoặc huỷ một bên trước khi gộp.")
    for report in moving:
        if report.status == ReportStatus.DRAFT:
            report.status = ReportStatus.CANCELLED
        else:
            report.unit_id = target.id
    for member in session.scalars(select(Member).where(Member.unit_id == source.id)):
        member.unit_id = target.id
    source.merged_into_id = target.id
    source.retired_at = now
    _audit(session, source, "merge", describe(source), describe(target), by, now)
    session.flush()
    return sum(1 for r in moving if r.status != ReportStatus.CANCELLED)


def retire(session: Session, *, unit_id: int, by: str, now: datetime) -> ReportingUnit:
    unit = _get(session, unit_id)
    if unit.kind == UnitKind.COMMUNE:
        raise UnitError("Xã/phường luôn phải báo cáo theo kế hoạch của tỉnh nên không cho ngừng báo cáo. Nếu người "
                        "báo cáo thay đổi, hãy tạo mã mời mới cho người mới.")
    if unit.retired_at is not None:
        raise UnitError(f"«{unit.name}» đã ngừng báo cáo từ trước.")
    unit.retired_at = now
    _audit(session, unit, "retire", None, None, by, now)
    session.flush()
    return unit


def history(session: Session, *, unit_id: int) -> list[UnitChange]:
    return [*session.scalars(select(UnitChange).where(UnitChange.unit_id == unit_id).order_by(UnitChange.id))]


def change_text(change: UnitChange) -> str:
    """An audit line of a unit as a person reads it."""
    if change.action == "rename":
        return f"Đổi tên: «{change.old_value}» → «{change.new_value}»"
    if change.action == "merge":
        return f"Gộp vào {change.new_value}; báo cáo đã chuyển sang"
    return "Ngừng báo cáo"
