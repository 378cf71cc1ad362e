"""Provincial officials in chat: /chitieu → plan → period → summary (each indicator's status
on the path to its target), the workbook, and a button per indicator for its charts (the line
over the years against the path, and every commune)."""

from __future__ import annotations

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import menu_reply
from bot.services import files
from reporting import charts, people
from reporting.clock import local_date
from reporting.completeness import completeness
from reporting.exports import to_xlsx
from reporting.indicators import IndicatorReport
from reporting.periods import Period, containing, parse
from reporting.plans import Plan, load_plans
from reporting.progress import Tracked, figure, track_plan
from reporting.vocabulary import OFFICIALS


def _plans(ctx: Context) -> tuple[dict[str, Plan], list[Reply]]:
    """The plans of the official's province, or the refusal for anyone else."""
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is None or member.role not in OFFICIALS:
        return {}, [menu_reply(ctx, ctx.t("not_official"))]
    plans = {p.id: p for p in load_plans().values() if p.province_code == member.province_code}
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
    if rates:
        lines.append("")
        for c in rates:
            deadline = f" (hạn {c.deadline:%d/%m/%Y})" if c.deadline else ""
            lines.append(ctx.t("completeness_line", form=c.title, period=c.period_name, received=c.received,
                               expected=c.expected, on_time=c.on_time, deadline=deadline))
    directory = ctx.services.settings.files_dir
    owner = f"{ctx.message.channel}:{ctx.message.user_id}"  # the web chat's browser fetches its own files
    replies = [Reply("\n".join(lines))]
    workbook = files.save(directory, to_xlsx(report, rates), "xlsx", stem=f"{plan.id}-{period.id}", owner=owner)
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
        image = files.save(directory, charts.progress(t), "png", stem=f"{wanted}-tien-do", owner=owner)
        replies.append(Reply(ctx.t("progress_caption", title=title, status=a.status_label, gap=a.gap_text),
                             image=image))
    if t.result.communes_reporting and t.result.definition.numerator is not None:
        image = files.save(directory, charts.by_commune(t.result, path_now=t.commune_path), "png", stem=wanted,
                           owner=owner)
        replies.append(Reply(ctx.t("chart_caption", title=title, period=period.name.lower()), image=image))
    replies.append(Reply.with_rows(ctx.t("pick_chart_again"), _chart_buttons(plan, period, tracked)))
    return replies


def register(router: Router) -> None:
    router.command("chitieu", "indicators")(start)
    router.button(Prefix.INDICATORS)(button)
