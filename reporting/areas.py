"""Provinces and communes after 1 July 2025 (34 provinces, 3,321 communes; no districts).

From the ``vietnam-provinces`` package, keyed by code (names differ between package versions).
Each commune also keeps its former province(s) from ``data/former_provinces.csv`` (made by
``scripts/make_former_provinces.py``), so a plan written before the merger — Bến Tre's, now in
Vĩnh Long — still finds its communes.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process
from vietnam_provinces import Province as _Province
from vietnam_provinces import Ward as _Ward

FORMER = Path(__file__).resolve().parent / "data" / "former_provinces.csv"
_PREFIXES = ("thanh pho ", "tinh ", "dac khu ", "phuong ", "xa ", "tp ", "tp. ")


@dataclass(frozen=True)
class Province:
    code: int
    name: str


@dataclass(frozen=True)
class Commune:
    code: int
    name: str
    province_code: int
    former_provinces: tuple[tuple[int, str], ...] = ()

    @property
    def former_province_codes(self) -> tuple[int, ...]:
        return tuple(code for code, _ in self.former_provinces)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _bare(name: str) -> str:
    folded = fold(name)
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


@cache
def provinces() -> dict[int, Province]:
    return {int(p.code): Province(int(p.code), p.name) for p in _Province.iter_all()}


@cache
def communes() -> dict[int, Commune]:
    former: defaultdict[int, list[tuple[int, str]]] = defaultdict(list)
    if FORMER.exists():
        with FORMER.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                former[int(row["ward_code"])].append(
                    (int(row["former_province_code"]), row["former_province_name"])
                )
    return {
        int(w.code): Commune(int(w.code), w.name, int(w.province_code), tuple(former.get(int(w.code), ())))
        for w in _Ward.iter_all()
    }


def province(code: int) -> Province | None:
    return provinces().get(code)


def commune(code: int) -> Commune | None:
    return communes().get(code)


def communes_of(province_code: int) -> list[Commune]:
    return sorted((c for c in communes().values() if c.province_code == province_code), key=lambda c: c.name)


@cache
def _index(province_code: int | None) -> tuple[list[str], list[Commune]]:
    found = communes_of(province_code) if province_code else list(communes().values())
    return [_bare(c.name) for c in found], found


def find_communes(text: str, *, province_code: int | None = None, limit: int = 5) -> list[Commune]:
    """Communes whose name matches what the user typed ("huu lung", "xã Hữu Lũng"), best first.

    An exact name (without diacritics or "xã"/"phường") wins alone; otherwise close names by
    similarity, so the caller can offer buttons.
    """
    query = _bare(text)
    if not query:
        return []
    names, found = _index(province_code)
    exact = [c for n, c in zip(names, found, strict=True) if n == query]
    if exact:
        return exact[:limit]
    if len(query) >= 3:
        starting = [c for n, c in zip(names, found, strict=True) if n.startswith(query)]
        if starting:
            return starting[:limit]
    matches = process.extract(query, names, scorer=fuzz.ratio, limit=limit, score_cutoff=80)
    return [found[i] for _, _, i in matches]


def resolve_commune(text: str, *, province_code: int | None = None) -> Commune:
    """A commune given by code («6385») or by name («Hữu Lũng», «xa huu lung»).

    Raises ValueError with a Vietnamese sentence naming the candidates when it is unclear, so a
    wrong code or a near name never silently picks another commune.
    """
    text = text.strip()
    if text.isdigit():
        found = commune(int(text))
        if found is None:
            raise ValueError(f"không có xã/phường mã {text}")
        if province_code is not None and found.province_code != province_code:
            raise ValueError(f"xã mã {text} ({found.name}) không thuộc tỉnh mã {province_code}")
        return found
    candidates = find_communes(text, province_code=province_code, limit=8)
    key = _bare(text)
    exact = [c for c in candidates if _bare(c.name) == key]
    if len(exact) == 1:
        return exact[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        hint = "" if province_code else " (cho biết thêm tỉnh để tìm hẹp lại)"
        raise ValueError(f"không tìm thấy xã/phường tên «{text}»{hint}")
    listed = "; ".join(f"{c.code} {c.name}, {_province_name(c.province_code)}" for c in candidates)
    raise ValueError(f"có nhiều xã/phường khớp «{text}»: {listed}. Hãy ghi mã xã.")


def _province_name(code: int) -> str:
    found = province(code)
    return found.name if found else str(code)


def full_name(code: int) -> str:
    """«Xã Hữu Lũng, Tỉnh Lạng Sơn (6385)»."""
    found = commune(code)
    if found is None:
        return str(code)
    return f"{found.name}, {_province_name(found.province_code)} ({code})"


DISTRICTS = Path(__file__).resolve().parent / "data" / "former_districts.csv"


@cache
def former_districts() -> dict[int, str]:
    """Each commune's district before 1/7/2025 («Huyện Hữu Lũng»), from ``data/former_districts.csv``
    (made by ``scripts/make_former_districts.py``); officials still read communes by it."""
    if not DISTRICTS.exists():
        return {}
    with DISTRICTS.open(encoding="utf-8") as f:
        return {int(row["ward_code"]): row["former_district_name"] for row in csv.DictReader(f)
                if row["former_district_name"]}


def former_district(code: int) -> str | None:
    return former_districts().get(code)
