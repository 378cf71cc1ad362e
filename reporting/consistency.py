"""Forms, plans, indicators and baseline figures checked together (start-up and content check).

A misspelt field in ``indicators.yaml`` would otherwise count as 0 for ever; a plan naming a
form that does not exist would never be reported. Each problem is a ``file: field: problem``
line.
"""

from __future__ import annotations

from pathlib import Path

from reporting.forms import FORMS_FILE, FormsError, load_forms
from reporting.indicators import DEFINITIONS, definitions
from reporting.plans import PLANS_DIR, load_plans
from reporting.reports import BASELINE_FIELDS
from reporting.vocabulary import ROLES, UNIT_KIND


def problems(*, forms_path: Path | None = None, indicators_path: Path | None = None,
             plans_dir: Path | None = None) -> list[str]:
    """Every disagreement between the forms, plans and indicators (none: an empty list)."""
    try:
        forms = load_forms(forms_path or FORMS_FILE)
        plans = load_plans(plans_dir or PLANS_DIR)
        indicators = definitions(indicators_path or DEFINITIONS)
    except ValueError as exc:  # FormsError, or a plan or indicator file that does not validate
        return str(exc).splitlines()
    out: list[str] = []
    for form in forms.values():
        if form.role not in UNIT_KIND:
            known = "known, but it does not report" if form.role in ROLES else "unknown"
            out.append(f"forms.yaml: {form.id}.role: {known} role {form.role!r}; use one of {', '.join(UNIT_KIND)}")
    for role in UNIT_KIND:
        if not any(f.role == role for f in forms.values()):
            out.append(f"forms.yaml: role: no form for the role '{role}'")
    for definition in indicators.values():
        where = f"indicators.yaml: {definition.id}"
        num = definition.numerator
        if num is None:
            continue
        found = forms.get(num.form)
        if found is None:
            out.append(f"{where}.numerator.form: no form {num.form!r}")
            continue
        form = found
        for key in [*num.fields, *definition.breakdown, *definition.denominator_from_reports]:
            if key not in form.value_keys():
                out.append(f"{where}: field {key!r} is not in the form {num.form!r}")
        for key in definition.denominator:
            if key not in BASELINE_FIELDS:
                out.append(f"{where}.denominator: {key!r} is not a baseline figure ({', '.join(BASELINE_FIELDS)})")
    for plan in plans.values():
        where = f"plans/{plan.id}.yaml"
        for form_id in plan.forms:
            if form_id not in forms:
                out.append(f"{where}: forms: no form {form_id!r}")
        for target in plan.indicators:
            if target.id not in indicators:
                out.append(f"{where}: indicators: no indicator {target.id!r} in indicators.yaml")
    return out


def check(**paths: Path | None) -> None:
    """Refuse to start with forms, plans and indicators that do not fit together."""
    found = problems(**paths)
    if found:
        raise FormsError("\n".join(found))
