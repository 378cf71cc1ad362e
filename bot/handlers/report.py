"""Reporting by chat: pick a form and period, answer one question at a time, review, send.

Steps are explicit states; the answers live in a draft report in the database, so a form
survives restarts and can be resumed days later.

Buttons come from the client, so nothing they ask is trusted: ``rpt:<action>:<draft>[:<field>[:<arg>]]``
names the draft (and the question) it belongs to, and the server checks that it is the draft
of this conversation, still open, of the member's unit, at that question; a period button is
checked against the periods the bot offers; «Gửi» files only a finished draft whose summary
is on screen. Anything else answers «nút này thuộc báo cáo cũ» and changes nothing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import REPORTER_ROLES, menu_reply
from reporting import areas, people, reports
from reporting.clock import VIETNAM, local_date
from reporting.forms import SKIPPED, FieldDef, FormDef, Problem, forms_for_role, load_forms, parse_answer, show
from reporting.models import Member, Report, ReportingUnit
from reporting.periods import containing, parse
from reporting.vocabulary import CHOICE_KINDS, NUMERIC_KINDS, FieldKind, ReportStatus


class Step(StrEnum):
    FIELD = "report.field"  # a question is open
    SUMMARY = "report.summary"  # the summary with «Gửi» is on screen
    CANCEL = "report.cancel"  # asked whether to throw the answers away


FIELD, SUMMARY = Step.FIELD, Step.SUMMARY  # the state names other modules and tests use
# button labels typed as words (channels without buttons, or a person who types): never a number
CANCEL_WORDS = {"huy", "huy bao cao", "thoi huy"}
BACK_WORDS = {"quay lai", "tro lai", "lui lai"}
CONFIRM_WORDS = {"dung", "dung roi", "dung vay", "ok", "oke", "okay", "vang", "da", "u", "uh", "phai", "chinh xac"}
RETYPE_WORDS = {"sai", "khong", "khong dung", "chua dung", "go lai", "nham"}


def _b(ctx: Context, key: str, *parts: object, **values: object) -> Button:
    return Button(ctx.t(key, **values), build(Prefix.REPORT, *(str(p) for p in parts)))


def _who(ctx: Context) -> str:
    return f"{ctx.message.channel}:{ctx.message.user_id}"


def _reporter(ctx: Context) -> tuple[Member, ReportingUnit] | list[Reply]:
    """The member and their unit, or the refusal to send to someone who may not report."""
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is None or member.role not in REPORTER_ROLES or member.unit_id is None:
        ctx.state.reset()
        key = "official_no_forms" if member is not None else "not_reporter"
        return [menu_reply(ctx, ctx.t(key))]
    unit = people.unit(ctx.session, member.unit_id)
    assert unit is not None
    if unit.retired_at is not None:
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("unit_retired", unit=unit.name))]
    return member, unit


def _forms(member: Member) -> dict[str, FormDef]:
    return {f.id: f for f in forms_for_role(member.role)}


def _draft(ctx: Context, unit: ReportingUnit, draft_id: object = None) -> Report | None:
    """The draft this conversation works on, if it is still open and belongs to the unit; with
    ``draft_id`` (from a button), only when the button names that very draft."""
    current = ctx.state.data.get("draft")
    if draft_id is not None and str(current) != str(draft_id):
        return None
    draft = reports.get(ctx.session, report_id=current) if isinstance(current, int) else None
    if draft is None or draft.status != ReportStatus.DRAFT or draft.unit_id != unit.id:
        return None
    return draft


def _answered(form: FormDef, draft: Report) -> int:
    """Questions of the form the person has answered (a skip counts; derived values do not)."""
    return sum(1 for f in form.asked(draft.values) if draft.values.get(f.key) not in (None, []))


def _open_draft(ctx: Context, unit: ReportingUnit, form: FormDef) -> Report | None:
    """The unit's open draft of ``form`` that has answers (which no old button may throw away)."""
    draft = reports.get_draft(ctx.session, unit_id=unit.id, form=form.id)
    return draft if draft is not None and _answered(form, draft) else None


def _stale(ctx: Context) -> list[Reply]:
    """An old or foreign button: say so, change nothing."""
    return [Reply(ctx.t("stale_button"))]


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
    forms = _forms(member)
    if ctx.args in forms:
        return _open_form(ctx, unit, forms[ctx.args])
    if len(forms) == 1:
        return _open_form(ctx, unit, next(iter(forms.values())))
    rows = [[Button(f.title, build(Prefix.REPORT, "form", f.id))] for f in forms.values()]
    return [Reply.with_rows(ctx.t("pick_form"), rows)]


def training_command(ctx: Context) -> list[Reply]:
    ctx.args = "training"
    return start(ctx)


def _open_form(ctx: Context, unit: ReportingUnit, form: FormDef) -> list[Reply]:
    draft = reports.get_draft(ctx.session, unit_id=unit.id, form=form.id)
    if draft is not None and not _answered(form, draft):
        reports.cancel(ctx.session, draft=draft)  # nothing answered yet: simply start again
        draft = None
    if draft is not None:
        ctx.state.reset()
        ctx.state.data["draft"] = draft.id
        asked = form.asked(draft.values)
        answered = sum(1 for f in asked if f.key in draft.values)
        text = ctx.t("resume_draft", form=form.title, period=_period_label(unit, draft.period),
                     answered=answered, total=len(asked))
        buttons = [[_b(ctx, "btn_resume", "resume", draft.id), _b(ctx, "btn_restart", "restart", draft.id)]]
        return [Reply.with_rows(text, buttons)]
    return _new_draft(ctx, unit, form)


def _new_draft(ctx: Context, unit: ReportingUnit, form: FormDef) -> list[Reply]:
    ctx.state.reset()
    if form.period_kind == "dated":
        draft = reports.create_draft(ctx.session, unit=unit, form=form, by=_who(ctx), now=ctx.message.at)
        ctx.state.data["draft"] = draft.id
        return _ask(ctx, unit, form, draft, form.fields[0])
    today = local_date(ctx.message.at)
    offered = reports.period_choices(ctx.session, unit, form, today)
    if not offered:
        return [menu_reply(ctx, ctx.t("no_periods", form=form.title))]
    rows = []
    for period, late in offered:
        label = period.label(reports.cutoff_day(unit))
        rows.append([Button(ctx.t("late_period", label=label) if late else label,
                            build(Prefix.REPORT, "period", form.id, period.id))])
    rows.append([Button(ctx.t("btn_cancel"), "menu")])
    return [Reply.with_rows(ctx.t("pick_period", form=form.title, unit=unit.name), rows)]


def _choose_period(ctx: Context, unit: ReportingUnit, form: FormDef, period: str) -> list[Reply]:
    if not reports.allowed_period(ctx.session, unit, form, period, local_date(ctx.message.at)):
        return [menu_reply(ctx, ctx.t("period_not_allowed"))]
    filed = reports.get_filed(ctx.session, unit_id=unit.id, form=form.id, period=period)
    if filed is not None:
        when = filed.filed_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if filed.filed_at else ""
        text = ctx.t("already_filed", form=form.title, period=_period_label(unit, period), filed=when,
                     version=filed.version)
        rows = [[_b(ctx, "btn_correct", "correct", filed.id)], [Button(ctx.t("btn_cancel"), "menu")]]
        return [Reply.with_rows(text, rows)]
    draft = reports.create_draft(ctx.session, unit=unit, form=form, by=_who(ctx), now=ctx.message.at, period=period)
    ctx.state.data["draft"] = draft.id
    return _ask(ctx, unit, form, draft, form.asked(draft.values)[0])


# -- asking ------------------------------------------------------------------------------------
def _ask(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef,
         problem: str | None = None) -> list[Reply]:
    ctx.state.name = Step.FIELD
    ctx.state.data.update({"draft": draft.id, "field": fdef.key})
    ctx.state.data.pop("pending", None)
    asked = form.asked(draft.values)
    index = next((i for i, f in enumerate(asked) if f.key == fdef.key), 0)
    lines = [ctx.t("answer_problem", reason=problem)] if problem else []
    lines.append(ctx.t("field_question", index=index + 1, total=len(asked), label=fdef.label))
    if fdef.unit and fdef.kind in NUMERIC_KINDS:
        lines.append(ctx.t("field_unit", unit=fdef.unit))
    current = draft.values.get(fdef.key)
    if fdef.kind == FieldKind.CHOICES and current:
        lines.append(ctx.t("field_choices_done", chosen=show(fdef, current)))
    if fdef.optional:
        lines.append(ctx.t("field_optional"))

    def here(key: str, action: str, *arg: object, **values: object) -> Button:
        return _b(ctx, key, action, draft.id, fdef.key, *arg, **values)

    rows: list[list[Button]] = []
    if fdef.kind == FieldKind.YESNO:
        rows.append([here("btn_yes", "pick", "yes"), here("btn_no", "pick", "no")])
    elif fdef.kind in CHOICE_KINDS:
        chosen = current if isinstance(current, list) else []
        for choice in fdef.choices:
            mark = "☑️ " if choice.value in chosen else ""
            data = build(Prefix.REPORT, "pick", draft.id, fdef.key, choice.value)
            rows.append([Button(f"{mark}{choice.label}", data)])
        if fdef.kind == FieldKind.CHOICES:
            rows.append([here("btn_done", "done")])
    elif fdef.kind == FieldKind.DATE:
        rows.append([here("btn_today", "pick", "today")])
    elif fdef.kind == FieldKind.COMMUNE:
        commune = areas.commune(unit.commune_code)
        if commune:
            rows.append([here("btn_my_commune", "commune", commune.code, name=commune.name)])
    nav = []
    if index > 0 and not ctx.state.data.get("editing"):
        nav.append(here("btn_back", "back"))
    if fdef.optional:
        nav.append(here("btn_skip", "skip"))
    nav.append(_b(ctx, "btn_cancel", "cancel", draft.id))
    rows.append(nav)
    reply = Reply.with_rows("\n".join(lines), rows)
    # typed digits answer the question; no channel may read them as a button number
    return [Reply(reply.text, reply.buttons, expects_number=fdef.kind in NUMERIC_KINDS | {FieldKind.BREAKDOWN})]


def _problem_text(ctx: Context, problem: Problem) -> str:
    return ctx.t(f"err_{problem.code}", **problem.params)


def _accept(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef, value: Any) -> list[Reply]:
    """Store an answer, check the rules it takes part in, then ask the next question."""
    keys = [fdef.key, *fdef.parts.values()]
    previous = {k: draft.values[k] for k in keys if k in draft.values}
    parts = [(p, value.get(p, 0)) for p in fdef.parts.values()] if isinstance(value, dict) else []
    for key, new in [(fdef.key, value), *parts]:
        reports.set_value(ctx.session, draft=draft, key=key, value=new, now=ctx.message.at)
    problems = reports.validate(ctx.session, draft=draft, form=form, just_answered=fdef.key)
    if problems:
        for key in keys:
            if key in previous:
                reports.set_value(ctx.session, draft=draft, key=key, value=previous[key], now=ctx.message.at)
            else:
                reports.unset_value(ctx.session, draft=draft, key=key, now=ctx.message.at)
        return _ask(ctx, unit, form, draft, fdef, problem=_problem_text(ctx, problems[0]))
    return _next(ctx, unit, form, draft, fdef)


def _skip(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef) -> list[Reply]:
    """No figure for an optional question: stored as no data (not zero)."""
    reports.set_value(ctx.session, draft=draft, key=fdef.key, value=None, now=ctx.message.at)
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
    typed = areas.fold(text)
    if "pending" in ctx.state.data and typed in CONFIRM_WORDS:  # «đúng» typed at «Đúng không?»
        return _accept(ctx, unit, form, draft, fdef, ctx.state.data["pending"])
    if "pending" in ctx.state.data and typed in RETYPE_WORDS:
        return _ask(ctx, unit, form, draft, fdef)
    if typed in CANCEL_WORDS:  # the «Huỷ» button, typed by its label: still asks before losing answers
        return _cancel(ctx, draft)
    if typed in BACK_WORDS:
        return _back(ctx, unit, form, draft, fdef)
    if fdef.kind == FieldKind.COMMUNE:
        return _commune_answer(ctx, unit, form, draft, fdef, text)
    try:
        parsed = parse_answer(fdef, text, today=local_date(ctx.message.at))
    except Problem as problem:
        return _ask(ctx, unit, form, draft, fdef, problem=_problem_text(ctx, problem))
    if parsed.value is SKIPPED:
        return _skip(ctx, unit, form, draft, fdef)
    if fdef.kind == FieldKind.DATE and (start := reports.first_year(unit, form)) is not None:
        day = date.fromisoformat(parsed.value)
        if containing(day, "Y", reports.cutoff_day(unit)).year < start:  # before the plans report on
            too_early = ctx.t("err_date_before_plan", date=f"{day:%d/%m/%Y}", year=start)
            return _ask(ctx, unit, form, draft, fdef, problem=too_early)
    if fdef.kind == FieldKind.CHOICES:
        return _toggle(ctx, unit, form, draft, fdef, parsed.value[0])
    if parsed.approximate:
        ctx.state.data["pending"] = parsed.value
        shown = show(fdef, parsed.value)
        rows = [[_b(ctx, "btn_confirm", "yes", draft.id, fdef.key), _b(ctx, "btn_retype", "no", draft.id, fdef.key)]]
        confirm = Reply.with_rows(ctx.t("confirm_value", typed=text, value=shown), rows)
        return [Reply(confirm.text, confirm.buttons, expects_number=True)]  # typing the figure again is an answer
    return _accept(ctx, unit, form, draft, fdef, parsed.value)


def _commune_answer(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef,
                    text: str) -> list[Reply]:
    """A training's commune: chosen by name, only among the officer's own province."""
    found = areas.find_communes(text, province_code=unit.province_code)
    if len(found) == 1:
        return _accept(ctx, unit, form, draft, fdef, found[0].code)
    if not found:
        return _ask(ctx, unit, form, draft, fdef, problem=ctx.t("commune_not_found", typed=text))
    rows = [[Button(c.name, build(Prefix.REPORT, "commune", draft.id, fdef.key, c.code))] for c in found]
    rows.append([_b(ctx, "btn_cancel", "cancel", draft.id)])
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


# -- summary, send, edit, cancel ----------------------------------------------------------------
def _summary(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report) -> list[Reply]:
    ctx.state.name = Step.SUMMARY
    ctx.state.data = {"draft": draft.id}
    lines = [ctx.t("summary_title", form=form.title, unit=unit.name, period=_period_label(unit, draft.period)), ""]
    for fdef in form.asked(draft.values):
        value = draft.values.get(fdef.key)
        commune = areas.commune(value) if fdef.kind == FieldKind.COMMUNE and isinstance(value, int) else None
        lines.append(f"• {fdef.label}: {commune.name if commune else show(fdef, value)}")
    if draft.period and not draft.corrects_id:
        dues = reports.deadlines(unit, form, parse(draft.period))
        if dues:
            shown = "; ".join(f"{d:%d/%m/%Y} ({plan.name})" for plan, d in dues)
            lines += ["", ctx.t("summary_deadline", deadline=shown)]
    missing = form.missing(draft.values)
    if missing:
        lines += ["", ctx.t("summary_missing", count=len(missing))]
        rows = [[_b(ctx, "btn_resume", "resume", draft.id), _b(ctx, "btn_cancel", "cancel", draft.id)]]
        return [Reply.with_rows("\n".join(lines), rows)]
    lines += ["", ctx.t("summary_prompt")]
    rows = [[_b(ctx, "btn_send", "send", draft.id), _b(ctx, "btn_edit", "edit", draft.id),
             _b(ctx, "btn_cancel", "cancel", draft.id)]]
    return [Reply.with_rows("\n".join(lines), rows)]


def _send(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report) -> list[Reply]:
    if ctx.state.name != Step.SUMMARY or form.missing(draft.values):
        return _stale(ctx)  # «Gửi» only from the summary of a finished draft
    before = reports.get(ctx.session, report_id=draft.corrects_id) if draft.corrects_id else None
    old_version = before.version if before else 0
    old_values = dict(before.values) if before else {}
    try:
        report = reports.file(ctx.session, draft=draft, form=form, by=_who(ctx), now=ctx.message.at)
    except Problem as problem:
        rows = [[_b(ctx, "btn_edit", "edit", draft.id), _b(ctx, "btn_cancel", "cancel", draft.id)]]
        return [Reply.with_rows(ctx.t("filed_problem", reason=_problem_text(ctx, problem)), rows)]
    ctx.state.reset()
    period = _period_label(unit, report.period)
    if before is not None or (report.version > 1 and report.id != draft.id):
        if report.version == old_version:
            return [menu_reply(ctx, ctx.t("corrected_nothing", version=report.version))]
        shown = {f.key for f in form.fields}
        changes = "\n".join(
            f"• {form.label(k)}: {show(form.field(k), old_values.get(k))} → {show(form.field(k), v)}"
            for k, v in report.values.items() if old_values.get(k) != v and k in shown)
        return [menu_reply(ctx, ctx.t("corrected_ok", form=form.title, period=period, version=report.version,
                                      changes=changes or "—"))]
    text = ctx.t("filed_ok", form=form.title, unit=unit.name, period=period, version=report.version)
    if report.late and report.deadline:
        text += "\n" + ctx.t("filed_late", deadline=f"{report.deadline:%d/%m/%Y}")
    return [menu_reply(ctx, text)]


def _cancel(ctx: Context, draft: Report) -> list[Reply]:
    """«Huỷ»: at once when nothing would be lost, else ask first."""
    answered = _answered(load_forms()[draft.form], draft)
    if answered == 0:
        return _cancelled(ctx, draft)
    ctx.state.data["before_cancel"] = {"name": ctx.state.name, "field": ctx.state.data.get("field")}
    ctx.state.name = Step.CANCEL
    rows = [[_b(ctx, "btn_cancel_yes", "cancelok", draft.id), _b(ctx, "btn_cancel_no", "cancelno", draft.id)]]
    return [Reply.with_rows(ctx.t("cancel_confirm", answered=answered), rows)]


def _cancelled(ctx: Context, draft: Report) -> list[Reply]:
    reports.cancel(ctx.session, draft=draft)
    ctx.state.reset()
    return [menu_reply(ctx, ctx.t("report_cancelled"))]


def _resume(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report) -> list[Reply]:
    asked = form.asked(draft.values)
    missing = next((f for f in asked if f.key not in draft.values), None)
    return _ask(ctx, unit, form, draft, missing) if missing else _summary(ctx, unit, form, draft)


def button(ctx: Context) -> list[Reply]:
    """Every ``rpt:`` button, checked against the conversation before anything changes."""
    callback = ctx.callback
    action, arg = callback.action, callback.rest(1)
    if action == "start":
        ctx.args = ""
        return start(ctx)
    who = _reporter(ctx)
    if isinstance(who, list):
        return who
    member, unit = who
    forms = _forms(member)
    if action == "form":
        return _open_form(ctx, unit, forms[arg]) if arg in forms else _stale(ctx)
    if action == "restart":  # «Làm lại từ đầu» names the draft it throws away
        draft = _draft(ctx, unit, arg)
        if draft is None or draft.form not in forms:
            return _stale(ctx)
        reports.cancel(ctx.session, draft=draft)
        return _new_draft(ctx, unit, forms[draft.form])
    if action == "period":
        form_id, period = callback.text(1), callback.rest(2)
        if form_id not in forms:
            return _stale(ctx)
        try:
            parse(period)
        except ValueError:
            return [menu_reply(ctx, ctx.t("period_not_allowed"))]
        if _open_draft(ctx, unit, forms[form_id]) is not None:  # an old period button: keep the answers
            return _open_form(ctx, unit, forms[form_id])
        return _choose_period(ctx, unit, forms[form_id], period)
    if action == "correct" and (report_id := callback.number(1)) is not None:
        filed = reports.get(ctx.session, report_id=report_id)
        if filed is None or filed.unit_id != unit.id or filed.status != ReportStatus.FILED or filed.form not in forms:
            return _stale(ctx)
        if _open_draft(ctx, unit, forms[filed.form]) is not None:  # answers in progress are not thrown away
            return _open_form(ctx, unit, forms[filed.form])
        draft = reports.create_draft(ctx.session, unit=unit, form=forms[filed.form], by=_who(ctx),
                                     now=ctx.message.at, corrects=filed)
        ctx.state.data["draft"] = draft.id
        return _summary(ctx, unit, forms[filed.form], draft)
    draft = _draft(ctx, unit, callback.text(1))
    if draft is None or draft.form not in forms:
        return _stale(ctx)
    form = forms[draft.form]
    return _draft_button(ctx, unit, form, draft, action, callback.rest(2))


def _draft_button(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, action: str,
                  rest: str) -> list[Reply]:
    state = ctx.state.name
    if action == "resume":
        return _resume(ctx, unit, form, draft)
    if action == "cancel":
        return _cancel(ctx, draft)
    if action == "cancelok" and state == Step.CANCEL:
        return _cancelled(ctx, draft)
    if action == "cancelno" and state == Step.CANCEL:
        before = ctx.state.data.pop("before_cancel", {}) or {}
        if before.get("name") == Step.FIELD and before.get("field") in form.value_keys():
            return _ask(ctx, unit, form, draft, form.field(before["field"]))
        return _resume(ctx, unit, form, draft) if before.get("name") != Step.SUMMARY else \
            _summary(ctx, unit, form, draft)
    if action == "send":
        return _send(ctx, unit, form, draft)
    if action == "edit" and state == Step.SUMMARY:
        rows = [[Button(f.label, build(Prefix.REPORT, "editf", draft.id, f.key))] for f in form.asked(draft.values)]
        return [Reply.with_rows(ctx.t("pick_field_to_edit"), rows)]
    if action == "editf" and state == Step.SUMMARY and rest in {f.key for f in form.asked(draft.values)}:
        ctx.state.data["editing"] = True
        return _ask(ctx, unit, form, draft, form.field(rest))
    # the rest answer the open question: the button must belong to it
    field_key, value = ctx.callback.text(2), ctx.callback.rest(3)
    if state != Step.FIELD or ctx.state.data.get("field") != field_key:
        return _stale(ctx)
    fdef = form.field(field_key)
    if action == "back":
        return _back(ctx, unit, form, draft, fdef)
    if action == "skip" and fdef.optional:
        return _skip(ctx, unit, form, draft, fdef)
    if action == "yes" and "pending" in ctx.state.data:
        return _accept(ctx, unit, form, draft, fdef, ctx.state.data["pending"])
    if action == "no":
        return _ask(ctx, unit, form, draft, fdef)
    if action == "done" and fdef.kind == FieldKind.CHOICES:
        if not draft.values.get(fdef.key):
            return _ask(ctx, unit, form, draft, fdef, problem=ctx.t("pick_at_least_one"))
        return _accept(ctx, unit, form, draft, fdef, draft.values[fdef.key])
    if action == "commune" and fdef.kind == FieldKind.COMMUNE and (code := ctx.callback.number(3)) is not None:
        commune = areas.commune(code)
        if commune is None or commune.province_code != unit.province_code:
            return _ask(ctx, unit, form, draft, fdef, problem=ctx.t("commune_other_province"))
        return _accept(ctx, unit, form, draft, fdef, commune.code)
    if action == "pick":
        return _pick(ctx, unit, form, draft, fdef, value)
    return _stale(ctx)


def _back(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef) -> list[Reply]:
    """The question before this one (while correcting one answer: back to the summary)."""
    if ctx.state.data.get("editing"):
        return _summary(ctx, unit, form, draft)
    asked = form.asked(draft.values)
    keys = [f.key for f in asked]
    index = keys.index(fdef.key) if fdef.key in keys else 0
    return _ask(ctx, unit, form, draft, asked[max(index - 1, 0)])


def _pick(ctx: Context, unit: ReportingUnit, form: FormDef, draft: Report, fdef: FieldDef, arg: str) -> list[Reply]:
    if fdef.kind == FieldKind.YESNO and arg in {"yes", "no"}:
        return _accept(ctx, unit, form, draft, fdef, arg == "yes")
    if fdef.kind == FieldKind.DATE and arg == "today":
        return _accept(ctx, unit, form, draft, fdef, local_date(ctx.message.at).isoformat())
    if fdef.kind == FieldKind.CHOICES and arg in {c.value for c in fdef.choices}:
        return _toggle(ctx, unit, form, draft, fdef, arg)
    if fdef.kind == FieldKind.CHOICE and arg in {c.value for c in fdef.choices}:
        return _accept(ctx, unit, form, draft, fdef, arg)
    return _stale(ctx)


def summary_text(ctx: Context) -> list[Reply]:
    """Text typed while the summary is shown: show it again (the buttons decide)."""
    opened = _open(ctx)
    if isinstance(opened, list):
        return opened
    unit, draft = opened
    return _summary(ctx, unit, load_forms()[draft.form], draft)


def cancel_text(ctx: Context) -> list[Reply]:
    """Text typed while «Huỷ?» is asked: ask again; nothing is thrown away by a typed word."""
    opened = _open(ctx)
    if isinstance(opened, list):
        return opened
    _, draft = opened
    answered = _answered(load_forms()[draft.form], draft)
    rows = [[_b(ctx, "btn_cancel_yes", "cancelok", draft.id), _b(ctx, "btn_cancel_no", "cancelno", draft.id)]]
    return [Reply.with_rows(ctx.t("cancel_confirm", answered=answered), rows)]


def register(router: Router) -> None:
    router.command("baocao", "report")(start)
    router.command("taphuan")(training_command)
    router.button(Prefix.REPORT)(button)
    router.state(Step.FIELD)(answer)
    router.state(Step.SUMMARY)(summary_text)
    router.state(Step.CANCEL)(cancel_text)

