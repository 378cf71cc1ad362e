"""The reporting vocabulary, one set of constants each: roles, report statuses, field kinds and
kinds of unit. They are ``StrEnum`` s, so they are stored and compared as the plain strings the
database, the YAML files and the callback data hold («extension_officer», «filed», «count»)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    EXTENSION_OFFICER = "extension_officer"
    COOPERATIVE = "cooperative"
    FARM = "farm"
    PROVINCIAL_OFFICIAL = "provincial_official"
    ADMIN = "admin"


class UnitKind(StrEnum):
    """Who files reports: a commune (its extension officer), a cooperative, a farm."""

    COMMUNE = "commune"
    COOPERATIVE = "cooperative"
    FARM = "farm"


class ReportStatus(StrEnum):
    DRAFT = "draft"
    FILED = "filed"
    CANCELLED = "cancelled"


class FieldKind(StrEnum):
    """What a form question asks for (reporting/forms.yaml ``kind``)."""

    COUNT = "count"  # a whole number ≥ 0
    AMOUNT = "amount"  # a decimal ≥ 0
    YESNO = "yesno"
    CHOICE = "choice"
    CHOICES = "choices"  # several
    DATE = "date"  # not in the future
    COMMUNE = "commune"  # a commune of the unit's province
    BREAKDOWN = "breakdown"  # «30 hộ biogas, 12 hộ đệm lót»: one answer fills one field per choice


ROLES = tuple(Role)
UNIT_KIND: dict[str, UnitKind] = {  # the roles that report for a unit, and its kind
    Role.EXTENSION_OFFICER: UnitKind.COMMUNE, Role.COOPERATIVE: UnitKind.COOPERATIVE, Role.FARM: UnitKind.FARM}
OFFICIALS = (Role.PROVINCIAL_OFFICIAL, Role.ADMIN)  # see indicators and the hand-over queue of a province
NUMERIC_KINDS = frozenset({FieldKind.COUNT, FieldKind.AMOUNT})
CHOICE_KINDS = frozenset({FieldKind.CHOICE, FieldKind.CHOICES})
