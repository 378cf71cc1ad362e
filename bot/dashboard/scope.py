"""What a dashboard account may see, in one place: the whole country (an admin without a
province), a province (a provincial official, «cán bộ tỉnh») or one commune (a commune officer,
«cán bộ xã»). Pages and exports ask this object; the server decides, never the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reporting import areas
from reporting.plans import Plan


@dataclass(frozen=True)
class Scope:
    province_code: int | None  # None: every province
    commune_code: int | None = None  # set: this commune only

    @property
    def commune_only(self) -> bool:
        return self.commune_code is not None

    def sees_province(self, province_code: int | None) -> bool:
        return self.province_code is None or province_code == self.province_code

    def sees_commune(self, commune_code: int | None) -> bool:
        """A commune's figures, units or questions; ``None`` (province-wide) only for a wider scope."""
        if self.commune_code is not None:
            return commune_code == self.commune_code
        if self.province_code is None:
            return True
        found = areas.commune(commune_code) if commune_code is not None else None
        return found is not None and found.province_code == self.province_code

    def sees_plan(self, plan: Plan) -> bool:
        return self.sees_province(plan.province_code)

    def commune_filter(self, asked: int | None) -> int | None:
        """The commune a page filters by: a commune officer's own, whatever was asked."""
        return self.commune_code if self.commune_code is not None else asked

    def communes(self, communes: Iterable[areas.Commune]) -> list[areas.Commune]:
        return [c for c in communes if self.sees_commune(c.code)]


EVERYTHING = Scope(None, None)
