"""Who sends an export and when: the agency, the province it answers to, the place and the date
written on the workbook and the report document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from reporting import areas
from reporting.clock import local_date
from reporting.plans import Plan

AGENCY_PREFIX = "Sở Nông nghiệp và Môi trường"
_KINDS = ("Thành phố ", "Tỉnh ")


@dataclass(frozen=True)
class Letterhead:
    agency: str  # «Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn»
    province: str  # «tỉnh Lạng Sơn» (as written inside a sentence)
    place: str  # «Lạng Sơn» (the place of the date line)
    today: date  # the local (Vietnamese) date of the export

    @property
    def date_text(self) -> str:
        """«26/11/2026»."""
        return f"{self.today:%d/%m/%Y}"

    @property
    def dated_line(self) -> str:
        """«Lạng Sơn, ngày 26 tháng 11 năm 2026» (days and months below 10 with a leading 0, as
        administrative documents write them)."""
        return f"{self.place}, ngày {self.today:%d} tháng {self.today:%m} năm {self.today.year}"

    @property
    def agency_short(self) -> str:
        """The agency without the province it belongs to: «Sở Nông nghiệp và Môi trường»."""
        suffix = f" {self.province}"
        return self.agency[: -len(suffix)] if self.agency.lower().endswith(suffix.lower()) else self.agency


def province_names(province_code: int) -> tuple[str, str]:
    """(«tỉnh Lạng Sơn», «Lạng Sơn»); («thành phố Hà Nội», «Hà Nội») for a city."""
    found = areas.province(province_code)
    name = found.name if found else str(province_code)
    for kind in _KINDS:
        if name.startswith(kind):  # the package writes cities «Thành phố Hà Nội», provinces «Lạng Sơn»
            bare = name[len(kind):]
            return kind.lower() + bare, name if bare == "Hồ Chí Minh" else bare  # «Thành phố Hồ Chí Minh, ngày …»
    return f"tỉnh {name}", name


def letterhead(plan: Plan, *, agency: str | None = None, today: date | None = None) -> Letterhead:
    """The plan's province's letterhead; ``agency`` (the AGRIBOT_AGENCY_NAME setting) when set,
    else «Sở Nông nghiệp và Môi trường tỉnh …» of the plan's province."""
    province, place = province_names(plan.province_code)
    name = (agency or "").strip() or f"{AGENCY_PREFIX} {province}"
    return Letterhead(name, province, place, today or local_date(datetime.now(UTC)))
