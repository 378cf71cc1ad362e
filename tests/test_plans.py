from pathlib import Path

import pytest

from reporting import areas
from reporting.forms import load_forms
from reporting.periods import parse
from reporting.plans import load_plans, plans_for


def test_the_five_plans_ship_as_data() -> None:
    plans = load_plans()
    assert set(plans) == {"ls-ktth-nn-2030", "ls-cnsh-mt-2030", "ls-nq19-2030", "ag-ktth-2030", "bt-cnsh-mt-2030"}
    ktth = plans["ls-ktth-nn-2030"]
    targets = {i.id: i.target for i in ktth.indicators}
    assert targets["straw_reuse_pct"] == 80 and targets["household_waste_treatment_pct"] == 60
    assert targets["extension_staff_trained_pct"] == 100
    assert ktth.deadline_for(parse("2026S2")).isoformat() == "2026-12-10"
    assert plans["ls-nq19-2030"].deadline_for(parse("2026S1")).isoformat() == "2026-06-15"


def test_ben_tre_plan_applies_only_to_former_ben_tre_communes() -> None:
    vinh_long = areas.communes_of(86)
    ben_tre = next(c for c in vinh_long if 83 in c.former_province_codes)
    other = next(c for c in vinh_long if 83 not in c.former_province_codes)
    assert [p.id for p in plans_for(86, ben_tre.former_province_codes)] == ["bt-cnsh-mt-2030"]
    assert plans_for(86, other.former_province_codes) == []


def test_forms_name_only_their_own_fields() -> None:
    forms = load_forms()
    assert set(forms) == {"commune", "cooperative", "farm", "training"}
    assert forms["commune"].fields[0].key == "households_applying"


def test_a_broken_plan_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x-plan.yaml").write_text("id: x-plan\nprovince_code: 20\nname: X\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"plans/x-plan\.yaml: first_year: Field required"):
        load_plans.__wrapped__(tmp_path)
    (tmp_path / "x-plan.yaml").write_text(
        "id: other\nprovince_code: 20\nname: X\ndocument: D\nfirst_year: 2025\nforms: []\ndeadlines: []\n"
        "indicators: []\n",
        encoding="utf-8")
    with pytest.raises(ValueError, match="must equal the file name"):
        load_plans.__wrapped__(tmp_path)
