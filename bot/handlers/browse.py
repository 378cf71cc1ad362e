"""Browse the guidance: topic → cards → card."""

from __future__ import annotations

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import card_full_reply, card_reply, menu_button, menu_reply


def topic(ctx: Context) -> list[Reply]:
    library = ctx.services.library
    found = library.topic(ctx.args)
    if found is None:
        return [menu_reply(ctx, ctx.t("topic_unknown"))]
    rows = [[Button(c.title, build(Prefix.CARD, c.id))] for c in library.cards_in(found.id)]
    rows.append([menu_button(ctx)])
    text = ctx.t("topic_prompt", title=found.title, description=found.description)
    return [Reply.with_rows(text, rows)]


def card(ctx: Context) -> list[Reply]:
    ctx.state.reset()
    found = ctx.services.library.cards.get(ctx.args)
    if found is None:
        return [menu_reply(ctx, ctx.t("card_unknown"))]
    return [card_reply(ctx, found)]


def full(ctx: Context) -> list[Reply]:
    found = ctx.services.library.cards.get(ctx.args)
    if found is None:
        return [menu_reply(ctx, ctx.t("card_unknown"))]
    return [card_full_reply(ctx, found)]


def register(router: Router) -> None:
    router.button(Prefix.TOPIC)(topic)
    router.button(Prefix.CARD)(card)
    router.button(Prefix.FULL)(full)
