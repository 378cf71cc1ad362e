"""A demo province: Lạng Sơn's real communes with plausible baselines and two years of reports.

Figures are invented but consistent with the forms' rules (breakdowns, baselines); some
communes report late and some not at all, so exports, charts and the dashboard show a
realistic picture. Seeded only into a database that has no reporting data yet.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reporting import areas
from reporting.forms import load_forms
from reporting.models import Baseline, ProvinceBaseline, Report, ReportingUnit
from reporting.periods import Period
from reporting.reports import deadline, derived
from reporting.vocabulary import ReportStatus, UnitKind

PROVINCE = 20  # Lạng Sơn
YEARS = (2025, 2026)
COOP_NAMES = ("HTX Nông nghiệp {}", "HTX Chăn nuôi {}", "HTX Dịch vụ {}")
FARM_NAMES = ("Trang trại lợn {}", "Trang trại gà {}", "Trang trại bò {}", "Trại chăn nuôi {}")


def is_empty(session: Session) -> bool:
    return not (session.scalar(select(func.count()).select_from(Report))
                or session.scalar(select(func.count()).select_from(Baseline)))


def _at(day: date) -> datetime:
    return datetime.combine(day, time(3, 0), tzinfo=UTC)  # 10:00 in Vietnam


def _unit(session: Session, kind: str, name: str, commune: areas.Commune) -> ReportingUnit:
    unit = ReportingUnit(kind=kind, name=name, commune_code=commune.code, province_code=commune.province_code)
    session.add(unit)
    session.flush()
    return unit


def _file(session: Session, unit: ReportingUnit, form: str, period: Period, values: dict[str, Any],
          filed: date) -> None:
    fdef = load_forms()[form]
    due = deadline(unit, fdef, period)
    session.add(Report(
        form=form, unit_id=unit.id, period=period.id, status=ReportStatus.FILED, version=1,
        values=derived(fdef, values),
        late=due is not None and filed > due, deadline=due, created_by="demo", created_at=_at(filed),
        updated_at=_at(filed), filed_at=_at(filed), filed_by="demo",
    ))


def seed(session: Session, *, now: datetime, seed_value: int = 20) -> dict[str, int]:
    """Fill the database; returns counts of what was written."""
    rng = random.Random(seed_value)
    today = now.date()
    communes = areas.communes_of(PROVINCE)
    counts = {"communes": len(communes), "baselines": 0, "reports": 0, "trainings": 0}
    for year in YEARS:
        session.add(ProvinceBaseline(province_code=PROVINCE, year=year, bio_enterprises=6 + (year - 2025)))
    halves = [Period(y, "S", n) for y in YEARS for n in (1, 2)]
    for commune in communes:
        hh = rng.randint(300, 1500)
        farms, coops, staff = rng.randint(1, 8), rng.randint(1, 4), rng.randint(2, 6)
        straw = float(rng.randint(5, 30) * 100)
        byproducts = float(rng.randint(2, 15) * 100)
        area = float(rng.randint(0, 40))
        for year in YEARS:
            session.add(Baseline(
                commune_code=commune.code, province_code=PROVINCE, year=year, livestock_households=hh, farms=farms,
                cooperatives=coops, extension_staff=staff, straw_generated_t=straw,
                byproducts_generated_t=byproducts, aquaculture_area_ha=area or None))
            counts["baselines"] += 1
        officer = _unit(session, "commune", commune.name, commune)
        diligence = rng.random()  # how reliably this commune reports
        cages = rng.choice([0, 0, 0, 5, 12, 20, 35])
        for i, half in enumerate(halves):
            end = half.end()
            if end - timedelta(days=20) > today:
                continue  # the period is still open
            if rng.random() > 0.55 + 0.4 * diligence:
                continue  # some communes do not report
            progress = 0.22 + 0.08 * i + 0.15 * rng.random()
            applying = round(hh * progress)
            parts = {"hh_biogas": round(applying * 0.5), "hh_bedding": round(applying * 0.3),
                     "hh_compost": round(applying * 0.25), "hh_other": round(applying * 0.05)}
            reused = round(straw * (0.15 + 0.06 * i + 0.1 * rng.random()), 1)
            values: dict[str, Any] = {
                "households_applying": applying, **parts, "straw_reused_t": reused,
                "straw_fertiliser_t": round(reused * 0.5, 1), "straw_mushroom_t": round(reused * 0.1, 1),
                "straw_feed_t": round(reused * 0.3, 1), "straw_bedding_t": None, "straw_sold_t": round(reused * 0.1, 1),
                "byproducts_reused_t": round(byproducts * (0.1 + 0.05 * i), 1),
                "aquaculture_bio_area_ha": round(area * (0.2 + 0.1 * i), 1) if area else None,
                "fish_cages": cages + 2 * i if cages else None,
                "farms_reached": min(farms, 1 + i), "coops_reached": min(coops, 1 + i // 2),
                "staff_trained": min(staff, 1 + i + round(diligence * 2)),
            }
            late_days = rng.choice([-14, -10, -6, -3, -1, 2, 9]) if diligence < 0.5 else rng.choice([-12, -8, -4, -2])
            due = date(half.year, 6, 15) if half.n == 1 else date(half.year, 11, 30)
            filed = min(due + timedelta(days=late_days), today)
            _file(session, officer, "commune", half, values, filed)
            counts["reports"] += 1
        for f in range(rng.randint(0, min(farms, 3))):
            name = FARM_NAMES[f % len(FARM_NAMES)].format(commune.name.removeprefix("Xã "))
            farm = _unit(session, UnitKind.FARM, name, commune)
            techs = rng.choice([["biogas"], ["bedding"], ["biogas", "compost"], ["none"], ["compost"]])
            for half in halves:
                if half.end() - timedelta(days=20) > today or rng.random() < 0.2:
                    continue
                values = {"technologies": techs, "pigs": rng.randint(50, 800), "cattle": rng.randint(0, 40),
                          "poultry": rng.randint(0, 3000)}
                _file(session, farm, "farm", half, values, min(half.end() - timedelta(days=rng.randint(5, 25)), today))
                counts["reports"] += 1
        for c in range(rng.randint(0, min(coops, 2))):
            coop = _unit(session, UnitKind.COOPERATIVE, COOP_NAMES[c].format(commune.name.removeprefix("Xã ")), commune)
            for half in halves:
                if half.end() - timedelta(days=20) > today or rng.random() < 0.3:
                    continue
                applies = rng.random() < 0.7
                members = rng.randint(20, 120)
                applying = rng.randint(5, members // 2) if applies else 0
                split = {"member_hh_biogas": applying // 2, "member_hh_bedding": applying // 3,
                         "member_hh_compost": applying - applying // 2 - applying // 3, "member_hh_other": 0}
                values = {"applies_process": applies, "process_kinds": ["straw", "compost"] if applies else None,
                          "member_households": members, "member_households_applying": applying,
                          "member_breakdown": split, **split,
                          "straw_collected_t": float(rng.randint(10, 200)),
                          "bioproducts_kg": float(rng.randint(0, 500)), "bioproducts_l": None}
                _file(session, coop, "cooperative", half, values, min(half.end() - timedelta(days=rng.randint(3, 20)),
                                                                       today))
                counts["reports"] += 1
        for year in YEARS:
            for _ in range(rng.randint(0, 3)):
                day = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
                if day > today:
                    continue
                n = rng.randint(12, 45)
                women = rng.randint(0, n // 2)
                values = {"training_date": day.isoformat(), "commune_code": commune.code,
                          "topics": rng.sample(["biogas", "bedding", "straw", "compost", "aquaculture"], 2),
                          "participants": n, "women": women, "ethnic_minority": rng.randint(0, n),
                          "staff": rng.randint(1, 3), "farms_represented": rng.randint(0, 3),
                          "coops_represented": rng.randint(0, 2)}
                period = Period(day.year + (1 if (day.month, day.day) > (12, 14) else 0))
                session.add(Report(form="training", unit_id=officer.id, period=period.id,
                                   status=ReportStatus.FILED, version=1, values=values, event_date=day,
                                   created_by="demo", created_at=_at(day), updated_at=_at(day), filed_at=_at(day),
                                   filed_by="demo"))
                counts["trainings"] += 1
    session.flush()
    return counts
