"""Provincial officials in chat: /chitieu → plan → period → summary (each indicator's status
on the path to its target), the workbook, and a button per indicator for its charts (the line
over the years against the path, and every commune)."""

from __future__ import annotations

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import menu_reply
from bot.services import files
from reporting import charts, figure_questions, people
from reporting.clock import local_date
from reporting.completeness import completeness
from reporting.exports import to_xlsx
from reporting.figure_questions import FigureQuestion
from reporting.indicators import IndicatorReport, definitions
from reporting.periods import Period, containing, parse
from reporting.plans import Plan, load_plans
from reporting.progress import Tracked, figure, fraction_text, track_plan
from reporting.vocabulary import OFFICIALS


def _province_plans(ctx: Context) -> dict[str, Plan] | None:
    """The plans of the official's province; None for anyone who is not an official."""
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is None or member.role not in OFFICIALS:
        return None
    return {p.id: p for p in load_plans().values() if p.province_code == member.province_code}


def _plans(ctx: Context) -> tuple[dict[str, Plan], list[Reply]]:
    """The plans of the official's province, or the refusal for anyone else."""
    plans = _province_plans(ctx)
    if plans is None:
        return {}, [menu_reply(ctx, ctx.t("not_official"))]
    if not plans:
        return {}, [menu_reply(ctx, ctx.t("no_plans"))]
    return plans, []


def start(ctx: Context) -> list[Reply]:
    ctx.state.reset()
    plans, refusal = _plans(ctx)
    if refusal:
        return refusal
    rows = [[Button(p.name[:60], build(Prefix.INDICATORS, "plan", p.id))] for p in plans.values()]
    return [Reply.with_rows(ctx.t("pick_plan"), rows)]


def _period_choices(plan: Plan, ctx: Context) -> list[Period]:
    today = local_date(ctx.message.at)
    year = containing(today, "Y", plan.cutoff_day)
    half = containing(today, "S", plan.cutoff_day)
    return [year, year.previous(), half, half.previous()]


def button(ctx: Context) -> list[Reply]:
    allowed, refusal = _plans(ctx)
    if refusal:
        return refusal
    action, arg = ctx.callback.action, ctx.callback.text(1)
    if action == "start":
        return start(ctx)
    if action == "plan" and arg in allowed:
        plan = allowed[arg]
        rows = [[Button(p.label(plan.cutoff_day), build(Prefix.INDICATORS, "show", plan.id, p.id))]
                for p in _period_choices(plan, ctx)]
        return [Reply.with_rows(ctx.t("pick_indicator_period", plan=plan.name), rows)]
    if action in ("show", "chart"):
        chosen = allowed.get(arg)
        try:
            period = parse(ctx.callback.text(2))
        except ValueError:
            return start(ctx)
        if chosen is None or period not in _period_choices(chosen, ctx):  # a forged or stale button
            return start(ctx)
        if action == "show":
            return show(ctx, chosen, period)
        index = ctx.callback.number(3)
        if index is None or not 0 <= index < len(chosen.indicators) or len(ctx.callback.parts) != 4:
            return start(ctx)
        return chart(ctx, chosen, period, index)
    return start(ctx)


def _has_chart(t: Tracked) -> bool:
    """A line over the years (values or a target), or a chart of the communes."""
    return bool(t.points) or t.assessment.target is not None or t.result.communes_reporting > 0


def _chart_buttons(plan: Plan, period: Period, tracked: list[Tracked]) -> list[list[Button]]:
    """One button per indicator with a chart; the index in the plan keeps the data ≤ 64 bytes."""
    position = {t.id: i for i, t in enumerate(plan.indicators)}
    return [[Button(f"📈 {t.result.definition.title}"[:60],
                    build(Prefix.INDICATORS, "chart", plan.id, period.id, position[t.result.id]))]
            for t in tracked if _has_chart(t)]


def _status_text(ctx: Context, t: Tracked) -> str:
    a = t.assessment
    if not a.summary:
        return ""
    when = f", số liệu {a.latest.period.name.lower()}" if a.latest and not a.latest_is_current else ""
    return ctx.t("indicator_status", status=a.summary, when=when)


def show(ctx: Context, plan: Plan, period: Period) -> list[Reply]:
    tracked = track_plan(ctx.session, plan, period)
    report = IndicatorReport(plan, period, None, [t.result for t in tracked])
    rates = completeness(ctx.session, plan=plan, period=period)
    lines = [ctx.t("indicators_title", plan=plan.name, period=period.label(plan.cutoff_day)), ""]
    for t in tracked:
        r, a = t.result, t.assessment
        value = "chưa có số liệu" if r.value is None else figure(r.value, r.definition.unit)
        goal = None if a.target is None else figure(a.target, r.definition.unit) + (
            f" năm {a.target_year}" if a.target_year else "")
        target = ctx.t("indicator_target", target=goal) if goal else ""
        lines.append(ctx.t("indicator_line", title=r.definition.title, value=value, target=target,
                           status=_status_text(ctx, t), reporting=r.communes_reporting, total=r.communes_total))
        if a.history_text:  # the trend to the target, year by year
            lines.append("   " + ctx.t("figures_history", history=a.history_text))
    if rates:
        lines.append("")
        for c in rates:
            deadline = f" (hạn {c.deadline:%d/%m/%Y})" if c.deadline else ""
            lines.append(ctx.t("completeness_line", form=c.title, period=c.period_name, received=c.received,
                               expected=c.expected, on_time=c.on_time, deadline=deadline))
    directory = ctx.services.settings.files_dir
    owner = f"{ctx.message.channel}:{ctx.message.user_id}"  # the web chat's browser fetches its own files
    replies = [Reply("\n".join(lines))]
    book = to_xlsx(report, rates, agency=ctx.services.settings.agency_name,
                   progress={t.result.id: t.assessment for t in tracked})
    workbook = files.save(directory, book, "xlsx", stem=f"{plan.id}-{period.id}", owner=owner,
                          province_code=plan.province_code)
    replies.append(Reply(ctx.t("workbook_caption"), document=workbook))
    buttons = _chart_buttons(plan, period, tracked)
    if buttons:
        replies.append(Reply.with_rows(ctx.t("pick_chart"), buttons))
    return replies


def chart(ctx: Context, plan: Plan, period: Period, index: int) -> list[Reply]:
    """The charts of the indicator the official picked: the line to the target, then every commune."""
    wanted = plan.indicators[index].id
    tracked = track_plan(ctx.session, plan, period)
    t = next((x for x in tracked if x.result.id == wanted), None)
    if t is None or not _has_chart(t):
        return start(ctx)
    directory = ctx.services.settings.files_dir
    owner = f"{ctx.message.channel}:{ctx.message.user_id}"
    title, a = t.result.definition.title, t.assessment
    replies = []
    if t.points or a.target is not None:
        image = files.save(directory, charts.progress(t), "png", stem=f"{wanted}-tien-do", owner=owner,
                           province_code=plan.province_code)
        replies.append(Reply(ctx.t("progress_caption", title=title, status=a.status_label, gap=a.gap_text),
                             image=image))
    if t.result.communes_reporting and t.result.definition.numerator is not None:
        image = files.save(directory, charts.by_commune(t.result, path_now=t.commune_path), "png", stem=wanted,
                           owner=owner, province_code=plan.province_code)
        replies.append(Reply(ctx.t("chart_caption", title=title, period=period.name.lower()), image=image))
    replies.append(Reply.with_rows(ctx.t("pick_chart_again"), _chart_buttons(plan, period, tracked)))
    return replies


# -- officials ask in words («xã nào chưa báo cáo», «tỷ lệ rơm rạ năm 2026») ------------------------
def in_words(ctx: Context, question: str) -> list[Reply] | None:
    """The figures an official asks for in words, or None (not about figures, or not an
    official: the cards answer)."""
    asked = figure_questions.parse(question)
    if asked is None:
        return None
    found = _province_plans(ctx)
    if not found:  # not an official, or no plan of the province: the cards answer
        return None
    plans = list(found.values())
    if asked.kind == "completeness":
        return _completeness_in_words(ctx, plans, asked)
    if asked.kind == "all":
        return _all_in_words(ctx, plans, asked)
    return _indicator_in_words(ctx, plans, asked)


def _asked_period(ctx: Context, plan: Plan, asked: FigureQuestion) -> Period:
    """The year (or half-year, where the plan reports half-yearly) the official named; else the
    reporting year now («năm ngoái»: the one before)."""
    year = asked.year or containing(local_date(ctx.message.at), "Y", plan.cutoff_day).year - asked.years_back
    if asked.half and plan.half_yearly:
        return Period(year, "S", asked.half)
    return Period(year)


def _yearly_note(ctx: Context, plan: Plan, asked: FigureQuestion) -> list[str]:
    """A half-year asked of a plan that reports by year: said, not silently answered with the year."""
    return [ctx.t("figures_yearly_only")] if asked.half and not plan.half_yearly else []


def _cards_button(ctx: Context) -> list[Button]:
    """«Xem hướng dẫn kỹ thuật»: the same words answered by the cards instead."""
    return [Button(ctx.t("btn_cards_instead"), build(Prefix.ASK, "cards"))]


def _indicator_in_words(ctx: Context, plans: list[Plan], asked: FigureQuestion) -> list[Reply]:
    wanted = asked.indicator_id
    having = [p for p in plans if any(i.id == wanted for i in p.indicators)]
    definition = definitions().get(wanted or "")
    if not having or definition is None:
        title = definition.title if definition else ""
        return [Reply.with_rows(ctx.t("figures_not_in_plans", title=title), [_cards_button(ctx)])]
    # the plan with a numeric target for it first
    plan = sorted(having, key=lambda p: next(i.target is None for i in p.indicators if i.id == wanted))[0]
    period = _asked_period(ctx, plan, asked)
    tracked = next(t for t in track_plan(ctx.session, plan, period) if t.result.id == wanted)
    r, a = tracked.result, tracked.assessment
    lines = [ctx.t("figures_title", title=definition.title, period=period.label(plan.cutoff_day), plan=plan.name),
             *_yearly_note(ctx, plan, asked)]
    if r.value is None:
        lines.append(ctx.t("figures_no_value"))
        if a.latest is not None and a.latest.value is not None and a.latest.period != period:
            lines.append(ctx.t("figures_latest", period=a.latest.period.name.lower(),
                               value=figure(a.latest.value, definition.unit)))
    else:
        fraction = fraction_text(definition, r.numerator, r.denominator)
        lines.append(ctx.t("figures_value", value=figure(r.value, definition.unit),
                           fraction=f" ({fraction})" if fraction and definition.is_ratio else ""))
    if a.target is not None:
        lines.append(ctx.t("figures_target", target=figure(a.target, definition.unit),
                           year=a.target_year or ""))
    if a.summary:
        expected = "" if a.expected_now is None or a.at_start else \
            ctx.t("figures_path", value=figure(a.expected_now, definition.unit))
        lines.append(ctx.t("figures_status", status=a.summary, path=expected))
    if a.history_text:
        lines.append(ctx.t("figures_history", history=a.history_text))
    lines.append(ctx.t("figures_reporting", reporting=r.communes_reporting, total=r.communes_total))
    rows: list[list[Button]] = []
    if period in _period_choices(plan, ctx):
        if _has_chart(tracked):
            index = next(i for i, x in enumerate(plan.indicators) if x.id == wanted)
            rows.append([Button(ctx.t("btn_figures_chart"), build(Prefix.INDICATORS, "chart", plan.id, period.id,
                                                                   index))])
        rows.append([Button(ctx.t("btn_figures_all"), build(Prefix.INDICATORS, "show", plan.id, period.id))])
    rows.append(_cards_button(ctx))
    return [Reply.with_rows("\n".join(lines), rows)]


def _all_in_words(ctx: Context, plans: list[Plan], asked: FigureQuestion) -> list[Reply]:
    """Every indicator of each plan in one line: value, target, status on the path."""
    replies = []
    for plan in plans:
        period = _asked_period(ctx, plan, asked)
        lines = [ctx.t("indicators_title", plan=plan.name, period=period.label(plan.cutoff_day)),
                 *_yearly_note(ctx, plan, asked)]
        for t in track_plan(ctx.session, plan, period):
            r, a = t.result, t.assessment
            value = "chưa có số liệu" if r.value is None else figure(r.value, r.definition.unit)
            goal = None if a.target is None else figure(a.target, r.definition.unit) + (
                f" năm {a.target_year}" if a.target_year else "")
            lines.append(ctx.t("indicator_line", title=r.definition.title, value=value,
                               target=ctx.t("indicator_target", target=goal) if goal else "",
                               status=_status_text(ctx, t), reporting=r.communes_reporting, total=r.communes_total))
        rows = [[Button(ctx.t("btn_figures_workbook"), build(Prefix.INDICATORS, "show", plan.id, period.id))]] \
            if period in _period_choices(plan, ctx) else []
        replies.append(Reply.with_rows("\n".join(lines), rows) if rows else Reply("\n".join(lines)))
    replies.append(Reply.with_rows(ctx.t("figures_more"), [_cards_button(ctx)]))
    return replies


MISSING_SHOWN = 15  # names listed per form; the rest counted


def _completeness_in_words(ctx: Context, plans: list[Plan], asked: FigureQuestion) -> list[Reply]:
    """Who has not reported, per plan and form, for the year asked (or now)."""
    lines: list[str] = []
    for plan in plans:
        period = _asked_period(ctx, plan, asked)
        rates = completeness(ctx.session, plan=plan, period=period)
        if not rates:
            continue
        lines += ["", ctx.t("figures_completeness_plan", plan=plan.name, period=period.label(plan.cutoff_day))]
        for c in rates:
            deadline = f" (hạn {c.deadline:%d/%m/%Y})" if c.deadline else ""
            lines.append(ctx.t("completeness_line", form=c.title, period=c.period_name, received=c.received,
                               expected=c.expected, on_time=c.on_time, deadline=deadline))
            if c.missing:
                shown = ", ".join(c.missing[:MISSING_SHOWN])
                more = ctx.t("figures_missing_more", count=len(c.missing) - MISSING_SHOWN) \
                    if len(c.missing) > MISSING_SHOWN else ""
                lines.append(ctx.t("figures_missing", names=shown, more=more))
            elif c.expected:
                lines.append(ctx.t("figures_none_missing"))
    if not lines:
        return [Reply.with_rows(ctx.t("figures_no_completeness"), [_cards_button(ctx)])]
    return [Reply.with_rows(ctx.t("figures_completeness_title") + "\n" + "\n".join(lines).strip(),
                            [_cards_button(ctx)])]


def register(router: Router) -> None:
    router.command("chitieu", "indicators")(start)
    router.button(Prefix.INDICATORS)(button)
