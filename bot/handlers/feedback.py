""""Hữu ích" / "Chưa đúng" under every card answer, and subscriptions to seasonal tips."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.conversation import ids
from bot.conversation.router import Context, Router
from bot.conversation.state import touch_user
from bot.conversation.types import Button, Reply
from bot.handlers.common import LAST_QUESTION, find_commune, menu_reply, officer_button
from bot.storage.models import Feedback, Subscription
from reporting import areas

SUBSCRIBE_COMMUNE = "sub.commune"


def feedback(ctx: Context) -> list[Reply]:
    verdict, _, card_id = ctx.args.partition(":")
    if card_id not in ctx.services.library.cards or verdict not in ("up", "down"):
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    question = ctx.state.data.get(LAST_QUESTION)
    ctx.session.add(Feedback(channel=ctx.message.channel, user_id=ctx.message.user_id, card_id=card_id,
                             question=question if isinstance(question, str) else None, helpful=verdict == "up",
                             created_at=ctx.message.at))
    if verdict == "up":
        return [menu_reply(ctx, ctx.t("feedback_up"))]
    return [Reply.with_rows(ctx.t("feedback_down"), [[officer_button(ctx)]])]


def _subscribed(ctx: Context) -> set[str]:
    return set(ctx.session.scalars(select(Subscription.topic).where(
        Subscription.channel == ctx.message.channel, Subscription.user_id == ctx.message.user_id)))


def _topics_reply(ctx: Context, text: str) -> Reply:
    chosen = _subscribed(ctx)
    rows = []
    for topic in ctx.services.library.topics:
        mark = "☑️ " if topic.id in chosen else "⬜ "
        rows.append([Button(mark + topic.title, f"sub:{'del' if topic.id in chosen else 'add'}:{topic.id}")])
    rows.append([Button(ctx.t("btn_done"), "menu")])
    return Reply.with_rows(text, rows)


def subscribe(ctx: Context) -> list[Reply]:
    user = touch_user(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id,
                      display_name=ctx.message.display_name)
    if user.commune_code is None:
        ctx.state.name = SUBSCRIBE_COMMUNE
        return [Reply(ctx.t("ask_commune_for_tips"))]
    return [_topics_reply(ctx, ctx.t("subscribe_prompt"))]


def unsubscribe(ctx: Context) -> list[Reply]:
    ctx.session.execute(delete(Subscription).where(Subscription.channel == ctx.message.channel,
                                                   Subscription.user_id == ctx.message.user_id))
    return [menu_reply(ctx, ctx.t("unsubscribed_all"))]


def subscription_button(ctx: Context) -> list[Reply]:
    action, _, topic = ctx.args.partition(":")
    if ctx.services.library.topic(topic) is None:
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    if action == "add" and topic not in _subscribed(ctx):
        ctx.session.add(Subscription(channel=ctx.message.channel, user_id=ctx.message.user_id, topic=topic,
                                     created_at=ctx.message.at))
        ctx.session.flush()
    elif action == "del":
        ctx.session.execute(delete(Subscription).where(
            Subscription.channel == ctx.message.channel, Subscription.user_id == ctx.message.user_id,
            Subscription.topic == topic))
    return [_topics_reply(ctx, ctx.t("subscribe_saved"))]


def subscribe_commune(ctx: Context) -> list[Reply]:
    found = find_commune(ctx, ctx.args, "subc:")
    return found if isinstance(found, list) else _after_commune(ctx, found)


def _after_commune(ctx: Context, code: int) -> list[Reply]:
    touch_user(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id,
               display_name=ctx.message.display_name).commune_code = code
    ctx.state.reset()
    return [_topics_reply(ctx, ctx.t("subscribe_prompt"))]


def subscribe_commune_button(ctx: Context) -> list[Reply]:
    if (code := ids.number(ctx.args)) is None or areas.commune(code) is None:
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    return _after_commune(ctx, code)


def register(router: Router) -> None:
    router.button("fb")(feedback)
    router.command("dangky", "subscribe")(subscribe)
    router.command("huy", "unsubscribe")(unsubscribe)
    router.button("sub")(subscription_button)
    router.button("subc")(subscribe_commune_button)
    router.state(SUBSCRIBE_COMMUNE)(subscribe_commune)
