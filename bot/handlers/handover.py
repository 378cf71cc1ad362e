""""Hỏi cán bộ khuyến nông": record the farmer's question for the commune's extension officer.

The question is stored with the user and the time; forwarding it to officers is the
hand-over feature, which reads the same records.
"""

from __future__ import annotations

from bot import questions
from bot.conversation.router import Context, Router
from bot.conversation.types import Reply
from bot.handlers.ask import LAST_QUESTION
from bot.handlers.common import OFFICER, menu_reply

AWAITING_OFFICER_QUESTION = "handover.awaiting_question"


def _record(ctx: Context, question: str) -> list[Reply]:
    questions.create(
        ctx.session,
        channel=ctx.message.channel,
        user_id=ctx.message.user_id,
        text=question,
        reason=questions.OFFICER_REQUESTED,
    )
    ctx.state.reset()
    return [menu_reply(ctx, ctx.t("officer_logged", question=question))]


def officer_button(ctx: Context) -> list[Reply]:
    last = ctx.state.data.get(LAST_QUESTION)
    if isinstance(last, str) and last.strip():
        return _record(ctx, last)
    ctx.state.name = AWAITING_OFFICER_QUESTION
    return [Reply(ctx.t("officer_ask_question"))]


def officer_question(ctx: Context) -> list[Reply]:
    question = ctx.args.strip()
    if not question:
        return [Reply(ctx.t("officer_ask_question"))]
    return _record(ctx, question)


def register(router: Router) -> None:
    router.button(OFFICER)(officer_button)
    router.state(AWAITING_OFFICER_QUESTION)(officer_question)
