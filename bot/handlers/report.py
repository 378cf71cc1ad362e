"""Reporting by chat: pick a form and period, answer one question at a time, review, send.

Steps are explicit states; the answers live in a draft report in the database, so a form
survives restarts and can be resumed days later. Callback data: ``rpt:<action>[:<arg>]``.
"""

from __future__ import annotations

from typing import Any

from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import REPORT, REPORTER_ROLES, menu_reply
from reporting import people, reports, units
from reporting.clock import VIETNAM, local_date
from reporting.forms import FieldDef, FormDef, Problem, load_forms, parse_answer, show
from reporting.models import Member, Report, ReportingUnit
from reporting.periods import parse

FIELD = "report.field"
SUMMARY = "report.summary"
FORMS_BY_ROLE = {"extension_officer": ["commune", "training"], "cooperative": ["cooperative"], "farm": ["farm"]}


def _b(ctx: Context, key: str, action: str, **values: object) -> Button:
    return Button(ctx.t(key, **values), f"{REPORT}:{action}")


def _who(ctx: Context) -> str:
    return f"{ctx.message.channel}:{ctx.message.user_id}"


def _reporter(ctx: Context) -> tuple[Member, ReportingUnit] | list[Reply]:
    """The member and their unit, or the refusal to send to someone who may not report."""
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is None or member.role not in REPORTER_ROLES or member.unit_id is None:
        ctx.state.reset()
        key = "official_no_forms" if member is not None else "not_reporter"
        return [menu_reply(ctx, ctx.t(key))]
    unit = ctx.session.get(ReportingUnit, member.unit_id)
    assert unit is not None
    return member, unit


def _draft(ctx: Context, unit: ReportingUnit) -> Report | None:
    """The draft this conversation works on, if it is still open and belongs to the unit."""
    draft_id = ctx.state.data.get("draft")
    draft = reports.get(ctx.session, report_id=draft_id) if isinstance(draft_id, int) else None
    if draft is None or draft.status != reports.DRAFT or draft.unit_id != unit.id:
        return None
    return draft


def _period_label(unit: ReportingUnit, period: str | None) -> str:
    if not period:
        return "theo ngày tập huấn"
    return parse(period).label(reports.cutoff_day(unit))


# -- entry -----------------------------------------------------------------------------------
def start(ctx: Context) -> list[Reply]:
    who = _reporter(ctx)
    if isinstance(who, list):
        return who
    member, unit = who
    forms = FORMS_BY_ROLE[member.role]
    if ctx.args in forms:
        return _open_form(ctx, unit, load_forms()[ctx.args])
    if len(forms) == 1:
        return _open_form(ctx, unit, load_forms()[forms[0]])
    rows = [[Button(load_forms()[f].title, f"{REPORT}:form:{f}")] for f in forms]
    return [Reply.with_rows(ctx.t("pick_form"), rows)]


def training_command(ctx: Context) -> list[Reply]:
    ctx.args = "training"
    return start(ctx)


def _open_form(ctx: Context, unit: ReportingUnit, form: FormDef) -> list[Reply]:
    draft = reports.get_draft(ctx.session, unit_id=unit.id, form=form.id)
    if draft is not None:
        ctx.state.reset()
        ctx.state.data["draft"] = draft.id
        asked = form.asked(draft.values)
        answered = sum(1 for f in asked if f.key in draft.values)
        text = ctx.t("resume_draft", form=form.title, period=_period_label(unit, draft.period),
                     answered=answered, total=len(asked))
        buttons = [[_b(ctx, "btn_resume", "resume"), _b(ctx, "btn_restart", f"restart:{form.id}")]]
        return [Reply.with_rows(text, buttons)]
    return _new_draft(ctx, unit, form)


def _new_draft(ctx: Context, unit: ReportingUnit, form: FormDef) -> list[Reply]:
    ctx.state.reset()
    if form.period_kind == "dated":
        draft = reports.create_draft(ctx.session, unit=unit, form=form, by=_who(ctx), now=ctx.message.at)
        ctx.state.data["draft"] = draft.id
        return _ask(ctx, unit, form, draft, form.fields[0])
    today = local_date(ctx.message.at)
    rows = [[Button(p.label(reports.cutoff_day(unit)), f"{REPORT}:period:{form.id}:{p.id}")]
            for p in reports.period_choices(unit, form, today)]
    rows.append([_b(ctx, "btn_cancel", "cancel")])
    return [Reply.with_rows(ctx.t("pick_period", form=form.title, unit=unit.name), rows)]


def _choose_period(ctx: Context, unit: ReportingUnit, form: FormDef, period: str) -> list[Reply]:
    filed = reports.get_filed(ctx.session, unit_id=unit.id, form=form.id, period=period)
    if filed is not None:
        when = filed.filed_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if filed.filed_at else ""
        text = ctx.t("already_filed", form=form.title, period=period, filed=when, version=filed.version)
        rows = [[_b(ctx, "btn_correct", f"correct:{filed.id}")], [_b(ctx, "btn_cancel", "cancel")]]
        return [Reply.with_rows(text, rows)]
    draft = reports.create_draft(ctx.session, unit=unit, form=form, by=_who(ctx), now=ctx.message.at, period=period)
    ctx.state.data["draft"] = draft.id
    return _ask(ctx, unit, form, draft, form.asked(draft.values)[0])


# -- asking ------------------------------------------------------------------------------------
def _ask(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef,
         problem: str | None = None) -> list[Reply]:
    ctx.state.name = FIELD
    ctx.state.data.update({"draft": draft.id, "field": fdef.key})
    ctx.state.data.pop("pending", None)
    asked = form.asked(draft.values)
    index = next((i for i, f in enumerate(asked) if f.key == fdef.key), 0)
    lines = [ctx.t("answer_problem", reason=problem)] if problem else []
    lines.append(ctx.t("field_question", index=index + 1, total=len(asked), label=fdef.label))
    if fdef.unit and fdef.kind in {"count", "amount"}:
        lines.append(ctx.t("field_unit", unit=fdef.unit))
    current = draft.values.get(fdef.key)
    if fdef.kind == "choices" and current:
        lines.append(ctx.t("field_choices_done", chosen=show(fdef, current)))
    if fdef.optional:
        lines.append(ctx.t("field_optional"))
    rows: list[list[Button]] = []
    if fdef.kind == "yesno":
        rows.append([_b(ctx, "btn_yes", "pick:yes"), _b(ctx, "btn_no", "pick:no")])
    elif fdef.kind in {"choice", "choices"}:
        chosen = current if isinstance(current, list) else []
        for choice in fdef.choices:
            mark = "☑️ " if choice.value in chosen else ""
            rows.append([Button(f"{mark}{choice.label}", f"{REPORT}:pick:{choice.value}")])
        if fdef.kind == "choices":
            rows.append([_b(ctx, "btn_done", "done")])
    elif fdef.kind == "date":
        rows.append([_b(ctx, "btn_today", "pick:today")])
    elif fdef.kind == "commune":
        commune = units.commune(unit.commune_code)
        if commune:
            rows.append([_b(ctx, "btn_my_commune", f"commune:{commune.code}", name=commune.name)])
    nav = []
    if index > 0 and not ctx.state.data.get("editing"):
        nav.append(_b(ctx, "btn_back", "back"))
    if fdef.optional:
        nav.append(_b(ctx, "btn_skip", "skip"))
    nav.append(_b(ctx, "btn_cancel", "cancel"))
    rows.append(nav)
    return [Reply.with_rows("\n".join(lines), rows)]


def _problem_text(ctx: Context, problem: Problem) -> str:
    return ctx.t(f"err_{problem.code}", **problem.params)


def _accept(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef, value: Any) -> list[Reply]:
    """Store an answer, check the rules it takes part in, then ask the next question."""
    previous = draft.values.get(fdef.key)
    reports.set_value(ctx.session, draft=draft, key=fdef.key, value=value, now=ctx.message.at)
    problems = reports.validate(ctx.session, draft=draft, form=form, just_answered=fdef.key)
    if problems:
        if previous is None:
            reports.unset_value(ctx.session, draft=draft, key=fdef.key, now=ctx.message.at)
        else:
            reports.set_value(ctx.session, draft=draft, key=fdef.key, value=previous, now=ctx.message.at)
        return _ask(ctx, unit, form, draft, fdef, problem=_problem_text(ctx, problems[0]))
    return _next(ctx, unit, form, draft, fdef)


def _next(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef) -> list[Reply]:
    if ctx.state.data.get("editing"):
        return _summary(ctx, unit, form, draft)
    asked = form.asked(draft.values)
    keys = [f.key for f in asked]
    position = keys.index(fdef.key) if fdef.key in keys else -1
    for following in asked[position + 1:]:
        if following.key not in draft.values:
            return _ask(ctx, unit, form, draft, following)
    return _summary(ctx, unit, form, draft)


def _open(ctx: Context) -> tuple[ReportingUnit, Report] | list[Reply]:
    """The reporter's unit and the open draft of this conversation, or the reply saying why not."""
    who = _reporter(ctx)
    if isinstance(who, list):
        return who
    _, unit = who
    draft = _draft(ctx, unit)
    if draft is None:
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("report_expired"))]
    return unit, draft


def answer(ctx: Context) -> list[Reply]:
    """Typed text while a question is open."""
    opened = _open(ctx)
    if isinstance(opened, list):
        return opened
    unit, draft = opened
    form = load_forms()[draft.form]
    fdef = form.field(ctx.state.data.get("field", form.fields[0].key))
    text = ctx.args.strip()
    if fdef.kind == "commune":
        return _commune_answer(ctx, unit, form, draft, fdef, text)
    try:
        parsed = parse_answer(fdef, text, today=local_date(ctx.message.at))
    except Problem as problem:
        return _ask(ctx, unit, form, draft, fdef, problem=_problem_text(ctx, problem))
    if fdef.kind == "choices":
        return _toggle(ctx, unit, form, draft, fdef, parsed.value[0])
    if parsed.approximate:
        ctx.state.data["pending"] = parsed.value
        shown = show(fdef, parsed.value)
        rows = [[_b(ctx, "btn_confirm", "yes"), _b(ctx, "btn_retype", "no")]]
        return [Reply.with_rows(ctx.t("confirm_value", typed=text, value=shown), rows)]
    return _accept(ctx, unit, form, draft, fdef, parsed.value)


def _commune_answer(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef,
                    text: str) -> list[Reply]:
    found = units.find_communes(text, province_code=unit.province_code)
    if len(found) == 1:
        return _accept(ctx, unit, form, draft, fdef, found[0].code)
    if not found:
        return _ask(ctx, unit, form, draft, fdef, problem=ctx.t("commune_not_found", typed=text))
    rows = [[Button(c.name, f"{REPORT}:commune:{c.code}")] for c in found]
    rows.append([_b(ctx, "btn_cancel", "cancel")])
    return [Reply.with_rows(ctx.t("pick_commune", typed=text), rows)]


def _toggle(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef, value: str) -> list[Reply]:
    chosen = list(draft.values.get(fdef.key) or [])
    if value in chosen:
        chosen.remove(value)
    elif fdef.exclusive and value == fdef.exclusive:
        chosen = [value]
    else:
        chosen = [v for v in chosen if v != fdef.exclusive] + [value]
    reports.set_value(ctx.session, draft=draft, key=fdef.key, value=chosen, now=ctx.message.at)
    return _ask(ctx, unit, form, draft, fdef)


# -- summary, send, edit -----------------------------------------------------------------------
def _summary(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report) -> list[Reply]:
    ctx.state.name = SUMMARY
    ctx.state.data = {"draft": draft.id}
    lines = [ctx.t("summary_title", form=form.title, unit=unit.name, period=_period_label(unit, draft.period)), ""]
    for fdef in form.asked(draft.values):
        value = draft.values.get(fdef.key)
        commune = units.commune(value) if fdef.kind == "commune" and isinstance(value, int) else None
        lines.append(f"• {fdef.label}: {commune.name if commune else show(fdef, value)}")
    if draft.period and not draft.corrects_id:
        due = reports.deadline(unit, form, parse(draft.period))
        if due:
            lines += ["", ctx.t("summary_deadline", deadline=f"{due:%d/%m/%Y}")]
    lines += ["", ctx.t("summary_prompt")]
    rows = [[_b(ctx, "btn_send", "send"), _b(ctx, "btn_edit", "edit"), _b(ctx, "btn_cancel", "cancel")]]
    return [Reply.with_rows("\n".join(lines), rows)]


def _send(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report) -> list[Reply]:
    before = reports.get(ctx.session, report_id=draft.corrects_id) if draft.corrects_id else None
    old_version = before.version if before else 0
    old_values = dict(before.values) if before else {}
    try:
        report = reports.file(ctx.session, draft=draft, form=form, by=_who(ctx), now=ctx.message.at)
    except Problem as problem:
        rows = [[_b(ctx, "btn_edit", "edit"), _b(ctx, "btn_cancel", "cancel")]]
        return [Reply.with_rows(ctx.t("filed_problem", reason=_problem_text(ctx, problem)), rows)]
    ctx.state.reset()
    period = report.period or ""
    if before is not None or (report.version > 1 and report.id != draft.id):
        if report.version == old_version:
            return [menu_reply(ctx, ctx.t("corrected_nothing", version=report.version))]
        changes = "\n".join(
            f"• {form.field(k).label}: {show(form.field(k), old_values.get(k))} → {show(form.field(k), v)}"
            for k, v in report.values.items() if old_values.get(k) != v and k in {f.key for f in form.fields})
        return [menu_reply(ctx, ctx.t("corrected_ok", form=form.title, period=period, version=report.version,
                                      changes=changes or "—"))]
    text = ctx.t("filed_ok", form=form.title, unit=unit.name, period=period, version=report.version)
    if report.late and report.deadline:
        text += "\n" + ctx.t("filed_late", deadline=f"{report.deadline:%d/%m/%Y}")
    return [menu_reply(ctx, text)]


def button(ctx: Context) -> list[Reply]:
    """Every ``rpt:`` button: they carry what they need, so old buttons work after a restart."""
    action, _, arg = ctx.args.partition(":")
    if action == "start":
        ctx.args = ""
        return start(ctx)
    who = _reporter(ctx)
    if isinstance(who, list):
        return who
    member, unit = who
    forms = load_forms()
    if action == "form" and arg in FORMS_BY_ROLE[member.role]:
        return _open_form(ctx, unit, forms[arg])
    if action == "restart" and arg in FORMS_BY_ROLE[member.role]:
        draft = reports.get_draft(ctx.session, unit_id=unit.id, form=arg)
        if draft is not None:
            reports.cancel(ctx.session, draft=draft)
        return _new_draft(ctx, unit, forms[arg])
    if action == "period":
        form_id, _, period = arg.partition(":")
        if form_id in FORMS_BY_ROLE[member.role]:
            try:
                parse(period)
            except ValueError:
                return [menu_reply(ctx, ctx.t("report_expired"))]
            return _choose_period(ctx, unit, forms[form_id], period)
    if action == "correct" and arg.isdigit():
        filed = reports.get(ctx.session, report_id=int(arg))
        if filed is None or filed.unit_id != unit.id or filed.status != reports.FILED:
            return [menu_reply(ctx, ctx.t("report_expired"))]
        draft = reports.create_draft(ctx.session, unit=unit, form=forms[filed.form], by=_who(ctx),
                                     now=ctx.message.at, corrects=filed)
        return _summary(ctx, unit, forms[filed.form], draft)
    draft = _draft(ctx, unit)
    if draft is None:
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("report_expired"))]
    form = forms[draft.form]
    if action == "resume":
        asked = form.asked(draft.values)
        missing = next((f for f in asked if f.key not in draft.values), None)
        return _ask(ctx, unit, form, draft, missing) if missing else _summary(ctx, unit, form, draft)
    if action == "cancel":
        reports.cancel(ctx.session, draft=draft)
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("report_cancelled"))]
    if action == "send":
        return _send(ctx, unit, form, draft)
    if action == "edit":
        ctx.state.name = SUMMARY
        rows = [[Button(f.label[:60], f"{REPORT}:editf:{f.key}")] for f in form.asked(draft.values)]
        return [Reply.with_rows(ctx.t("pick_field_to_edit"), rows)]
    if action == "editf" and arg in {f.key for f in form.fields}:
        ctx.state.data["editing"] = True
        return _ask(ctx, unit, form, draft, form.field(arg))
    fdef = form.field(ctx.state.data.get("field", form.fields[0].key))
    if action == "back":
        asked = form.asked(draft.values)
        keys = [f.key for f in asked]
        index = keys.index(fdef.key) if fdef.key in keys else 0
        return _ask(ctx, unit, form, draft, asked[max(index - 1, 0)])
    if action == "skip" and fdef.optional:
        reports.set_value(ctx.session, draft=draft, key=fdef.key, value=None, now=ctx.message.at)
        return _next(ctx, unit, form, draft, fdef)
    if action == "yes" and "pending" in ctx.state.data:
        return _accept(ctx, unit, form, draft, fdef, ctx.state.data["pending"])
    if action == "no":
        return _ask(ctx, unit, form, draft, fdef)
    if action == "done" and fdef.kind == "choices":
        if not draft.values.get(fdef.key):
            return _ask(ctx, unit, form, draft, fdef, problem=ctx.t("pick_at_least_one"))
        return _accept(ctx, unit, form, draft, fdef, draft.values[fdef.key])
    if action == "commune" and fdef.kind == "commune" and arg.isdigit() and units.commune(int(arg)):
        return _accept(ctx, unit, form, draft, fdef, int(arg))
    if action == "pick":
        return _pick(ctx, unit, form, draft, fdef, arg)
    return _ask(ctx, unit, form, draft, fdef)


def _pick(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef, arg: str) -> list[Reply]:
    if fdef.kind == "yesno" and arg in {"yes", "no"}:
        return _accept(ctx, unit, form, draft, fdef, arg == "yes")
    if fdef.kind == "date" and arg == "today":
        return _accept(ctx, unit, form, draft, fdef, local_date(ctx.message.at).isoformat())
    if fdef.kind == "choices" and arg in {c.value for c in fdef.choices}:
        return _toggle(ctx, unit, form, draft, fdef, arg)
    if fdef.kind == "choice" and arg in {c.value for c in fdef.choices}:
        return _accept(ctx, unit, form, draft, fdef, arg)
    return _ask(ctx, unit, form, draft, fdef)


def summary_text(ctx: Context) -> list[Reply]:
    """Text typed while the summary is shown: show it again (the buttons decide)."""
    opened = _open(ctx)
    if isinstance(opened, list):
        return opened
    unit, draft = opened
    return _summary(ctx, unit, load_forms()[draft.form], draft)


def register(router: Router) -> None:
    router.command("baocao", "report")(start)
    router.command("taphuan")(training_command)
    router.button(REPORT)(button)
    router.state(FIELD)(answer)
    router.state(SUMMARY)(summary_text)

