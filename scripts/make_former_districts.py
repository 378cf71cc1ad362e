"""Write reporting/data/former_districts.csv: each commune's district before 1/7/2025.

Districts were abolished on 1/7/2025, but provincial officials still read their communes by the
former district («huyện Hữu Lũng cũ»): the dashboard's commune list filters by it. The old →
new conversion is in vietnam-provinces 2026.x; a commune made from wards of several former
districts gets the district most of its former wards came from. Run (the conversion module is
plain data and imports on Python 3.11 too):
    pip download --no-deps --python-version 3.12 --only-binary=:all: 'vietnam-provinces>=2026.9' -d /tmp/vp
    unzip -q /tmp/vp/*.whl -d /tmp/vp-x && PYTHONPATH=/tmp/vp-x python scripts/make_former_districts.py
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from vietnam_provinces._ward_conversion_2025 import NEW_TO_OLD
from vietnam_provinces.legacy.base import District

OUT = Path(__file__).resolve().parent.parent / "reporting" / "data" / "former_districts.csv"


def main() -> None:
    names = {int(d.code): d.name for d in District.iter_all()}
    rows = []
    for code in sorted(NEW_TO_OLD):
        entry = NEW_TO_OLD[code]
        counted = Counter(o.district_code for o in entry.old_wards)
        if not counted:
            continue
        district = min(counted, key=lambda d: (-counted[d], d))
        rows.append((int(code), district, names.get(district, "")))
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ward_code", "former_district_code", "former_district_name"])
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
