"""Free-text questions: small talk, a card answer, a choice between close cards, or the fallback."""

from __future__ import annotations

from bot import media as media_service
from bot import questions
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import ASK, CARD, card_reply, menu_button, menu_reply, officer_button
from bot.handlers.register import is_code_attempt, redeem
from bot.knowledge.normalize import fold

AWAITING_QUESTION = "ask.awaiting_question"
LAST_QUESTION = "last_question"
MENU_WORDS = {"menu", "chu de", "danh muc", "bat dau", "start"}
MAX_CHOICES = 3


def answer(ctx: Context, question: str) -> list[Reply]:
    """Answer ``question`` with the best card, ask which card when two are close, or fall back."""
    ctx.state.reset()
    ctx.state.data[LAST_QUESTION] = question
    result = ctx.services.index.search(question)
    library = ctx.services.library
    if result.answer is None:
        best = result.candidates[0] if result.candidates else None
        questions.create(
            ctx.session,
            channel=ctx.message.channel,
            user_id=ctx.message.user_id,
            text=question,
            reason=questions.NO_MATCH,
            best_card=best.card_id if best else None,
            best_score=best.score if best else None,
        )
        return [Reply.with_rows(ctx.t("fallback"), [[officer_button(ctx)], [menu_button(ctx)]])]
    if result.ambiguous:
        close = [
            c for c in result.candidates[:MAX_CHOICES]
            if c.score >= ctx.services.index.threshold
            and result.candidates[0].score - c.score < ctx.services.index.margin
        ]
        rows = [[Button(library.cards[c.card_id].title, f"{CARD}:{c.card_id}")] for c in close]
        rows.append([officer_button(ctx)])
        return [Reply.with_rows(ctx.t("ambiguous_prompt"), rows)]
    return [card_reply(ctx, library.cards[result.answer])]


def text(ctx: Context) -> list[Reply]:
    question = ctx.args.strip()
    if not question:
        return [menu_reply(ctx, ctx.t("empty_text"))]
    if fold(question) in MENU_WORDS:
        ctx.state.reset()
        return [menu_reply(ctx)]
    if is_code_attempt(question):
        return redeem(ctx, question)
    intent = ctx.services.smalltalk.match(question)
    if intent is not None:
        return [menu_reply(ctx, intent.reply)]
    return answer(ctx, question)


def ask_command(ctx: Context) -> list[Reply]:
    if ctx.args:
        return text(ctx)
    ctx.state.name = AWAITING_QUESTION
    return [Reply(ctx.t("ask_prompt"))]


def media(ctx: Context) -> list[Reply]:
    kind = ctx.message.media
    if kind is not None:
        media_service.create(
            ctx.session,
            channel=ctx.message.channel,
            user_id=ctx.message.user_id,
            kind=kind.value,
            ref=ctx.message.media_ref,
            caption=ctx.message.caption,
        )
    label = ctx.t(f"media_{kind.value}") if kind else ctx.t("media_document")
    return [Reply.with_rows(ctx.t("media_received", kind=label), [[officer_button(ctx)], [menu_button(ctx)]])]


def register(router: Router) -> None:
    router.command("hoi", "ask")(ask_command)
    router.button(ASK)(ask_command)
    router.state(AWAITING_QUESTION)(text)
    router.text = text
    router.media = media
