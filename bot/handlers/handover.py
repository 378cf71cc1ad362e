""""Hỏi cán bộ khuyến nông": the farmer's question goes to the commune's extension officers.

The bot asks the farmer's commune once (remembered), records the question with the user and
time, and queues it to the officers of that commune on their own channels. A commune without a
registered officer puts it in the province's queue: the farmer is told so, and the province's
officials get it. Officers answer with "Trả lời" (or from ``/cauhoi``, their open questions,
oldest first; officials see the province's queue there); the answer is relayed to the farmer,
who can rate it. Callback data: ``ho:<action>:<id>``; ``officer`` starts it. Every button is
checked here: the question exists and is open, and the member may answer it (role, commune or
province queue) — never the button's word for it.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import LAST_QUESTION, find_commune, menu_reply
from bot.services import handovers, questions, users
from bot.storage.models import HandoverRequest
from reporting import areas, people
from reporting.clock import VIETNAM
from reporting.vocabulary import OFFICIALS, Role

LISTED = 8  # questions shown by /cauhoi at once (one button each)
QUOTE = 160  # characters of a question quoted in the list


class Step(StrEnum):
    QUESTION = "handover.awaiting_question"  # «Hỏi cán bộ» pressed with no question yet
    COMMUNE = "handover.commune"  # the farmer's commune is asked once, then remembered
    ANSWERING = "handover.answering"  # an officer types the answer


def submit(ctx: Context, question: str) -> list[Reply]:
    """Hand ``question`` to the commune's officers (asking the commune first if unknown)."""
    user = users.touch(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id,
                       display_name=ctx.message.display_name)
    if user.commune_code is None:
        ctx.state.name = Step.COMMUNE
        ctx.state.data = {"question": question}
        return [Reply(ctx.t("ask_commune"))]
    questions.create(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, text=question,
                     reason=questions.OFFICER_REQUESTED)
    request, _ = handovers.create(ctx.session, user=user, question=question, now=ctx.message.at,
                                  t=ctx.services.messages)
    ctx.state.reset()
    commune = areas.commune(user.commune_code)
    name = commune.name if commune else ""
    if request.province_code is None:
        key = "handover_no_one"
    elif handovers.in_province_queue(request):
        key = "handover_sent_province"
    else:
        key = "handover_sent"
    return [menu_reply(ctx, ctx.t(key, question=question, commune=name))]


def officer_button(ctx: Context) -> list[Reply]:
    last = ctx.state.data.get(LAST_QUESTION)
    if isinstance(last, str) and last.strip():
        return submit(ctx, last)
    ctx.state.name = Step.QUESTION
    return [Reply(ctx.t("officer_ask_question"))]


def officer_question(ctx: Context) -> list[Reply]:
    question = ctx.args.strip()
    if not question:
        return [Reply(ctx.t("officer_ask_question"))]
    return submit(ctx, question)


def _set_commune(ctx: Context, code: int) -> list[Reply]:
    question = str(ctx.state.data.get("question") or "")
    users.set_commune(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, commune_code=code)
    ctx.state.reset()
    return submit(ctx, question) if question else [menu_reply(ctx, ctx.t("commune_saved"))]


def commune_answer(ctx: Context) -> list[Reply]:
    found = find_commune(ctx, ctx.args, Prefix.HANDOVER, "commune")
    return found if isinstance(found, list) else _set_commune(ctx, found)


def _settled(ctx: Context, request: HandoverRequest) -> Reply:
    """«Câu hỏi này đã được … trả lời lúc …»: said to whoever comes second."""
    who = people.who(ctx.session, request.answered_by) if request.answered_by else ctx.t("someone")
    at = request.answered_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if request.answered_at else ""
    key = "handover_already" if request.state == handovers.ANSWERED else "handover_already_closed"
    return menu_reply(ctx, ctx.t(key, by=who, at=at))


def _escalate_after(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.services.settings.handover_escalate_hours)


def list_open(ctx: Context) -> list[Reply]:
    """``/cauhoi``: the open questions this officer (or official) may answer, oldest first."""
    ctx.state.reset()
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is None or not (member.role == Role.EXTENSION_OFFICER or member.role in OFFICIALS):
        return [menu_reply(ctx, ctx.t("questions_not_officer"))]
    rows = handovers.open_for(ctx.session, member=member)
    if not rows:
        return [menu_reply(ctx, ctx.t("questions_none"))]
    now, after = ctx.message.at, _escalate_after(ctx)
    lines = [ctx.t("questions_title", count=len(rows))]
    buttons: list[list[Button]] = []
    for number, request in enumerate(rows[:LISTED], start=1):
        quoted = request.question if len(request.question) <= QUOTE else request.question[:QUOTE - 1] + "…"
        lines.append(ctx.t("questions_line", number=number, place=handovers.place(request),
                           asked=request.created_at.astimezone(VIETNAM).strftime("%H:%M %d/%m"),
                           waited=handovers.waited(now - request.created_at), question=quoted,
                           overdue=ctx.t("questions_overdue") if handovers.is_overdue(request, now=now, after=after)
                           else ""))
        buttons.append([Button(ctx.t("btn_answer_number", number=number),
                               build(Prefix.HANDOVER, "reply", request.id))])
    if len(rows) > LISTED:
        lines.append(ctx.t("questions_more", count=len(rows) - LISTED))
    return [Reply.with_rows("\n\n".join(lines), buttons)]


def button(ctx: Context) -> list[Reply]:
    action, number = ctx.callback.action, ctx.callback.number(1)
    if action == "commune" and number is not None and areas.commune(number):
        return _set_commune(ctx, number)
    if action == "list":
        return list_open(ctx)
    request = handovers.get(ctx.session, number)
    if action == "rate":
        verdict = ctx.callback.text(2)
        if request is None or verdict not in ("up", "down") or \
                (request.channel, request.user_id) != (ctx.message.channel, ctx.message.user_id):
            return [menu_reply(ctx, ctx.t("unknown_button"))]
        handovers.rate(request, helpful=verdict == "up")
        return [menu_reply(ctx, ctx.t("rated_thanks"))]
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if request is None or member is None or not handovers.may_answer(member, request):
        return [menu_reply(ctx, ctx.t("not_allowed_answer"))]
    if action == "reply":
        if request.state != handovers.OPEN:
            return [_settled(ctx, request)]
        ctx.state.name = Step.ANSWERING
        ctx.state.data = {"request": request.id}
        return [Reply(ctx.t("answer_prompt", question=request.question))]
    if action == "done":
        if not handovers.close(ctx.session, request=request, by=f"{member.channel}:{member.user_id}",
                               now=ctx.message.at):
            return [_settled(ctx, request)]
        return [menu_reply(ctx, ctx.t("handover_closed"))]
    if action == "content" and request.state == handovers.ANSWERED:
        handovers.mark_for_content(request)
        return [menu_reply(ctx, ctx.t("content_marked"))]
    return [menu_reply(ctx, ctx.t("unknown_button"))]


def officer_answer(ctx: Context) -> list[Reply]:
    text = ctx.args.strip()
    saved = ctx.state.data.get("request")
    request = handovers.get(ctx.session, saved) if isinstance(saved, int) else None
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if request is None or member is None or not handovers.may_answer(member, request):
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("not_allowed_answer"))]
    if not text:
        return [Reply(ctx.t("answer_prompt", question=request.question))]
    ctx.state.reset()
    sent = handovers.answer(ctx.session, request=request, by=f"{member.channel}:{member.user_id}",
                            from_province=member.role in OFFICIALS, text=text, now=ctx.message.at,
                            t=ctx.services.messages)
    if not sent:
        return [_settled(ctx, request)]
    rows = [[Button(ctx.t("btn_for_content"), build(Prefix.HANDOVER, "content", request.id))]]
    if handovers.open_for(ctx.session, member=member, limit=1):
        rows.append([Button(ctx.t("btn_open_questions"), build(Prefix.HANDOVER, "list"))])
    return [Reply.with_rows(ctx.t("answer_sent"), rows)]


def register(router: Router) -> None:
    router.command("cauhoi", "questions")(list_open)
    router.button(Prefix.OFFICER)(officer_button)
    router.button(Prefix.HANDOVER)(button)
    router.state(Step.QUESTION)(officer_question)
    router.state(Step.COMMUNE)(commune_answer)
    router.state(Step.ANSWERING)(officer_answer)
