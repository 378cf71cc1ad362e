"""Free text: small talk, a request for a person, a sick animal, an emergency, off-topic, or a card.

The decision is :meth:`bot.knowledge.search.SearchIndex.search`; here it becomes replies:
a card's short answer; «Có phải bác muốn hỏi…?» with the best cards as buttons and «Không
phải — hỏi cán bộ»; the hand-over; the veterinary officer; what the bot can help with; or the
fallback that records the question for the officers.
"""

from __future__ import annotations

from enum import StrEnum

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers import handover, officials
from bot.handlers.common import LAST_QUESTION, card_reply, menu_button, menu_reply, officer_button
from bot.handlers.invites import is_code_attempt, redeem
from bot.knowledge.intents import EMERGENCY, HANDOVER, OFFTOPIC, SMALLTALK, VET
from bot.knowledge.normalize import fold
from bot.services import learned, questions
from bot.services import media as media_service


class Step(StrEnum):
    QUESTION = "ask.awaiting_question"  # «Hỏi» pressed: the next text is the question

MENU_WORDS = {"menu", "chu de", "danh muc", "bat dau", "start"}


def answer(ctx: Context, question: str) -> list[Reply]:
    """Answer ``question`` with a card, ask which card is meant, route it, or fall back."""
    ctx.state.reset()
    ctx.state.data[LAST_QUESTION] = question
    result = ctx.services.index.refresh(ctx.session).search(question)
    learned.record(ctx.session, channel=ctx.message.channel, result=result, at=ctx.message.at)
    library = ctx.services.library
    if result.intent == EMERGENCY:
        rows = [[Button(f"➡️ {library.cards[c].title}", build(Prefix.CARD, c))] for c in result.offered]
        return [Reply.with_rows(ctx.t("emergency_person"), [*rows, [officer_button(ctx)]])]
    if result.intent == SMALLTALK:
        intent = ctx.services.index.current.smalltalk.match(question)
        return [menu_reply(ctx, intent.reply if intent else None)]
    if result.intent == HANDOVER:
        return handover.submit(ctx, question)
    if result.intent == VET:
        return [Reply.with_rows(ctx.t("vet_reply"), [[officer_button(ctx)], [menu_button(ctx)]])]
    if result.intent == OFFTOPIC:
        return [menu_reply(ctx, ctx.t("offtopic_reply"))]
    if result.answer is not None:
        return [card_reply(ctx, library.cards[result.answer])]
    best = result.candidates[0] if result.candidates else None
    questions.create(
        ctx.session,
        channel=ctx.message.channel,
        user_id=ctx.message.user_id,
        text=question,
        reason=questions.OFFERED if result.offered else questions.NO_MATCH,
        best_card=best.card_id if best else None,
        best_score=best.score if best else None,
    )
    if result.offered:
        rows = [[Button(library.cards[c].title, build(Prefix.CARD, c))] for c in result.offered if c in library.cards]
        rows.append([Button(ctx.t("btn_not_these"), build(Prefix.OFFICER))])
        return [Reply.with_rows(ctx.t("clarify_prompt"), rows)]
    return [Reply.with_rows(ctx.t("fallback"), [[officer_button(ctx)], [menu_button(ctx)]])]


def text(ctx: Context) -> list[Reply]:
    question = ctx.args.strip()
    if not question:
        return [menu_reply(ctx, ctx.t("empty_text"))]
    if fold(question) in MENU_WORDS:
        ctx.state.reset()
        return [menu_reply(ctx)]
    if is_code_attempt(question):
        return redeem(ctx, question)
    figures = officials.in_words(ctx, question)  # an official asking for figures in words
    if figures is not None:
        ctx.state.reset()
        ctx.state.data[LAST_QUESTION] = question  # «Không, tôi hỏi kỹ thuật» answers it with the cards
        return figures
    return answer(ctx, question)


def ask_command(ctx: Context) -> list[Reply]:
    if ctx.callback.action == "cards":
        asked = ctx.state.data.get(LAST_QUESTION)  # the words an official's figures answered
        if isinstance(asked, str) and asked:
            return answer(ctx, asked)
    if ctx.args:
        return text(ctx)
    ctx.state.name = Step.QUESTION
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
    router.button(Prefix.ASK)(ask_command)
    router.state(Step.QUESTION)(text)
    router.text = text
    router.media = media
