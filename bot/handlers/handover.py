""""Hỏi cán bộ khuyến nông": the farmer's question goes to the commune's extension officers.

The bot asks the farmer's commune once (remembered), records the question with the user and
time, and queues it to the officers of that commune on their own channels (to the province's
officials when the commune has none). Officers answer with "Trả lời"; the answer is relayed to
the farmer, who can rate it. Callback data: ``ho:<action>:<id>``; ``officer`` starts it.
"""

from __future__ import annotations

from enum import StrEnum

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import LAST_QUESTION, find_commune, menu_reply
from bot.services import handovers, questions, users
from reporting import areas, people


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
    request, recipients = handovers.create(ctx.session, user=user, question=question, now=ctx.message.at,
                                           t=ctx.services.messages)
    ctx.state.reset()
    commune = areas.commune(user.commune_code)
    name = commune.name if commune else ""
    if recipients == 0:
        key = "handover_no_one"
    elif request.escalated_at is not None:
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


def button(ctx: Context) -> list[Reply]:
    action, number = ctx.callback.action, ctx.callback.number(1)
    if action == "commune" and number is not None and areas.commune(number):
        return _set_commune(ctx, number)
    request = handovers.get(ctx.session, number)
    if action == "rate":
        verdict = ctx.callback.text(2)
        if request is None or verdict not in ("up", "down") or \
                (request.channel, request.user_id) != (ctx.message.channel, ctx.message.user_id):
            return [menu_reply(ctx, ctx.t("unknown_button"))]
        handovers.rate(request, helpful=verdict == "up")
        return [menu_reply(ctx, ctx.t("rated_thanks"))]
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if request is None or not handovers.may_answer(member, request):
        return [menu_reply(ctx, ctx.t("not_allowed_answer"))]
    if action == "reply":
        if request.state != handovers.OPEN:
            return [Reply(ctx.t("handover_already", by=request.answered_by or ""))]
        ctx.state.name = Step.ANSWERING
        ctx.state.data = {"request": request.id}
        return [Reply(ctx.t("answer_prompt", question=request.question))]
    if action == "done":
        handovers.close(request)
        return [menu_reply(ctx, ctx.t("handover_closed"))]
    if action == "content":
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
    if request.state != handovers.OPEN:
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("handover_already", by=request.answered_by or ""))]
    handovers.answer(ctx.session, request=request, by=member, text=text, now=ctx.message.at, t=ctx.services.messages)
    ctx.state.reset()
    rows = [[Button(ctx.t("btn_for_content"), build(Prefix.HANDOVER, "content", request.id))]]
    return [Reply.with_rows(ctx.t("answer_sent"), rows)]


def register(router: Router) -> None:
    router.button(Prefix.OFFICER)(officer_button)
    router.button(Prefix.HANDOVER)(button)
    router.state(Step.QUESTION)(officer_question)
    router.state(Step.COMMUNE)(commune_answer)
    router.state(Step.ANSWERING)(officer_answer)
