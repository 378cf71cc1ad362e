"""Provincial officials in chat: /chitieu → plan → period → summary, chart and workbook."""

from __future__ import annotations

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import menu_reply
from bot.services import files
from reporting import charts, people
from reporting.clock import local_date
from reporting.completeness import completeness
from reporting.exports import progress_by_indicator, target_text, to_xlsx, value_text
from reporting.indicators import compute
from reporting.periods import Period, containing, parse
from reporting.plans import Plan, load_plans
from reporting.vocabulary import OFFICIALS

CHART_PREFERENCE = ("household_waste_treatment_pct", "straw_reuse_pct", "organic_waste_recycled_pct")


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
    if action == "show":
        plan_id, period_id = arg, ctx.callback.text(2)
        if plan_id in allowed:
            try:
                period = parse(period_id)
            except ValueError:
                return start(ctx)
            return show(ctx, allowed[plan_id], period)
    return start(ctx)


def show(ctx: Context, plan: Plan, period: Period) -> list[Reply]:
    report = compute(ctx.session, plan=plan, period=period)
    rates = completeness(ctx.session, plan=plan, period=period)
    lines = [ctx.t("indicators_title", plan=plan.name, period=period.label(plan.cutoff_day)), ""]
    for r in report.results:
        goal = target_text(r)
        target = ctx.t("indicator_target", target=goal) if goal else ""
        lines.append(ctx.t("indicator_line", title=r.definition.title, value=value_text(r), target=target,
                           reporting=r.communes_reporting, total=r.communes_total))
    if rates:
        lines.append("")
        for c in rates:
            deadline = f" (hạn {c.deadline:%d/%m/%Y})" if c.deadline else ""
            lines.append(ctx.t("completeness_line", form=c.title, period=c.period_name, received=c.received,
                               expected=c.expected, on_time=c.on_time, deadline=deadline))
    directory = ctx.services.settings.files_dir
    owner = f"{ctx.message.channel}:{ctx.message.user_id}"  # the web chat's browser fetches its own files
    replies = [Reply("\n".join(lines))]
    chart_source = next((r for key in CHART_PREFERENCE for r in report.results if r.id == key), None) \
        or next((r for r in report.results if r.definition.is_ratio), None)
    if chart_source is not None:
        image = files.save(directory, charts.by_commune(chart_source), "png", stem=chart_source.id,
                           owner=owner)
        replies.append(Reply(ctx.t("chart_caption", title=chart_source.definition.title), image=image))
    book = to_xlsx(report, rates, agency=ctx.services.settings.agency_name,
                   progress=progress_by_indicator(ctx.session, plan, period))
    workbook = files.save(directory, book, "xlsx", stem=f"{plan.id}-{period.id}", owner=owner)
    replies.append(Reply(ctx.t("workbook_caption"), document=workbook))
    return replies


def register(router: Router) -> None:
    router.command("chitieu", "indicators")(start)
    router.button(Prefix.INDICATORS)(button)
