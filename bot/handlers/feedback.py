""""Hữu ích" / "Chưa đúng" under every card answer, and subscriptions to seasonal tips."""

from __future__ import annotations

from enum import StrEnum

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import LAST_QUESTION, find_commune, menu_reply, officer_button
from bot.services import feedback as feedback_service
from bot.services import subscriptions, users
from reporting import areas


class Step(StrEnum):
    COMMUNE = "sub.commune"  # asked which commune the tips are for


def feedback(ctx: Context) -> list[Reply]:
    verdict, card_id = ctx.callback.action, ctx.callback.rest(1)
    if card_id not in ctx.services.library.cards or verdict not in ("up", "down"):
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    question = ctx.state.data.get(LAST_QUESTION)
    feedback_service.record(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, card_id=card_id,
                            question=question if isinstance(question, str) else None, helpful=verdict == "up",
                            now=ctx.message.at)
    if verdict == "up":
        return [menu_reply(ctx, ctx.t("feedback_up"))]
    return [Reply.with_rows(ctx.t("feedback_down"), [[officer_button(ctx)]])]


def _subscribed(ctx: Context) -> set[str]:
    return subscriptions.topics(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)


def _topics_reply(ctx: Context, text: str) -> Reply:
    chosen = _subscribed(ctx)
    rows = []
    for topic in ctx.services.library.topics:
        mark = "☑️ " if topic.id in chosen else "⬜ "
        action = "del" if topic.id in chosen else "add"
        rows.append([Button(mark + topic.title, build(Prefix.SUBSCRIBE, action, topic.id))])
    rows.append([Button(ctx.t("btn_done"), build(Prefix.MENU))])
    return Reply.with_rows(text, rows)


def subscribe(ctx: Context) -> list[Reply]:
    user = users.touch(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id,
                       display_name=ctx.message.display_name)
    if user.commune_code is None:
        ctx.state.name = Step.COMMUNE
        return [Reply(ctx.t("ask_commune_for_tips"))]
    return [_topics_reply(ctx, ctx.t("subscribe_prompt"))]


def unsubscribe(ctx: Context) -> list[Reply]:
    subscriptions.remove(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    return [menu_reply(ctx, ctx.t("unsubscribed_all"))]


def subscription_button(ctx: Context) -> list[Reply]:
    action, topic = ctx.callback.action, ctx.callback.rest(1)
    if ctx.services.library.topic(topic) is None:
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    if action == "add":
        subscriptions.add(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, topic=topic,
                          now=ctx.message.at)
    elif action == "del":
        subscriptions.remove(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, topic=topic)
    return [_topics_reply(ctx, ctx.t("subscribe_saved"))]


def subscribe_commune(ctx: Context) -> list[Reply]:
    found = find_commune(ctx, ctx.args, Prefix.SUBSCRIBE_COMMUNE)
    return found if isinstance(found, list) else _after_commune(ctx, found)


def _after_commune(ctx: Context, code: int) -> list[Reply]:
    users.set_commune(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id, commune_code=code)
    ctx.state.reset()
    return [_topics_reply(ctx, ctx.t("subscribe_prompt"))]


def subscribe_commune_button(ctx: Context) -> list[Reply]:
    if (code := ctx.callback.number(0)) is None or areas.commune(code) is None:
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    return _after_commune(ctx, code)


def register(router: Router) -> None:
    router.button(Prefix.FEEDBACK)(feedback)
    router.command("dangky", "subscribe")(subscribe)
    router.command("huy", "unsubscribe")(unsubscribe)
    router.button(Prefix.SUBSCRIBE)(subscription_button)
    router.button(Prefix.SUBSCRIBE_COMMUNE)(subscribe_commune_button)
    router.state(Step.COMMUNE)(subscribe_commune)
