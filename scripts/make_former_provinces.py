"""Write reporting/data/former_provinces.csv: each commune's province before 1/7/2025.

The provinces merged on 1/7/2025 (Bến Tre into Vĩnh Long, Kiên Giang into An Giang, …); plans
written before then still apply to the communes of the former province. vietnam-provinces
2026.x (Python ≥ 3.12) carries the old → new conversion; this script turns it into a small
mapping file the service reads on any Python. Run:
    python3.12 -m venv /tmp/vp && /tmp/vp/bin/pip install 'vietnam-provinces>=2026.9'
    /tmp/vp/bin/python scripts/make_former_provinces.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from vietnam_provinces import Ward
from vietnam_provinces._ward_conversion_2025 import NEW_TO_OLD
from vietnam_provinces.legacy.base import Province as OldProvince

OUT = Path(__file__).resolve().parent.parent / "reporting" / "data" / "former_provinces.csv"


def main() -> None:
    old_names = {int(p.code): p.name for p in OldProvince.iter_all()}
    rows = []
    for ward in sorted(Ward.iter_all(), key=lambda w: int(w.code)):
        entry = NEW_TO_OLD.get(int(ward.code))
        if entry is None:
            continue
        former = sorted({o.province_code for o in entry.old_wards})
        for code in former:
            rows.append((int(ward.code), int(ward.province_code), code, old_names.get(code, "")))
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ward_code", "province_code", "former_province_code", "former_province_name"])
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
