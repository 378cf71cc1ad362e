"""Officials send a tip or a card to subscribers: /guitin → topic → text → area → confirm."""

from __future__ import annotations

from enum import StrEnum

from bot.conversation import ids
from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context, Router
from bot.conversation.types import Button, Reply
from bot.handlers.common import menu_reply
from bot.services import broadcasts
from reporting import areas, people
from reporting.models import Member
from reporting.vocabulary import OFFICIALS


class Step(StrEnum):
    TEXT = "bc.text"  # the topic is chosen; the text (or a card id) is asked
    AREA = "bc.area"  # the whole province or one commune
    CONFIRM = "bc.confirm"  # «Gửi ngay» / «Huỷ» with the count of recipients


def _official(ctx: Context) -> Member | None:
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    return member if member is not None and member.role in OFFICIALS else None


def start(ctx: Context) -> list[Reply]:
    ctx.state.reset()
    if _official(ctx) is None:
        return [menu_reply(ctx, ctx.t("not_official"))]
    rows = [[Button(t.title, build(Prefix.BROADCAST, "topic", t.id))] for t in ctx.services.library.topics]
    return [Reply.with_rows(ctx.t("broadcast_pick_topic"), rows)]


def _confirm(ctx: Context) -> list[Reply]:
    member = _official(ctx)
    assert member is not None
    data = ctx.state.data
    count = len(broadcasts.recipients(ctx.session, topic=data.get("topic"), province_code=member.province_code,
                                      commune_code=data.get("commune")))
    if count == 0:
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("broadcast_none"))]
    ctx.state.name = Step.CONFIRM
    rows = [[Button(ctx.t("btn_send_now"), build(Prefix.BROADCAST, "send")),
             Button(ctx.t("btn_cancel"), build(Prefix.BROADCAST, "cancel"))]]
    return [Reply.with_rows(ctx.t("broadcast_confirm", count=count, text=data["text"]), rows)]


def text(ctx: Context) -> list[Reply]:
    typed = ctx.args.strip()
    card = ctx.services.library.cards.get(typed)
    if card is not None:
        ctx.state.data.update({"text": f"📗 {card.title}\n{card.summary}", "card": card.id})
    elif len(typed) >= 10:
        ctx.state.data.update({"text": typed, "card": None})
    else:
        return [Reply(ctx.t("broadcast_type_text"))]
    ctx.state.name = Step.AREA
    return [Reply.with_rows(ctx.t("broadcast_pick_area"), [[_whole_province(ctx)]])]


def _whole_province(ctx: Context) -> Button:
    return Button(ctx.t("btn_whole_province"), build(Prefix.BROADCAST, "area", "all"))


def area(ctx: Context) -> list[Reply]:
    member = _official(ctx)
    if member is None:
        return start(ctx)
    found = areas.find_communes(ctx.args.strip(), province_code=member.province_code)
    if len(found) != 1:
        rows = [[Button(c.name, build(Prefix.BROADCAST, "area", c.code))] for c in found]
        rows.append([_whole_province(ctx)])
        key = "commune_choose" if found else "commune_unknown"
        return [Reply.with_rows(ctx.t(key, typed=ctx.args.strip()), rows)]
    ctx.state.data["commune"] = found[0].code
    return _confirm(ctx)


def button(ctx: Context) -> list[Reply]:
    member = _official(ctx)
    if member is None:
        return [menu_reply(ctx, ctx.t("not_official"))]
    action, arg = ctx.callback.action, ctx.callback.rest(1)
    if action == "topic" and ctx.services.library.topic(arg):
        ctx.state.name = Step.TEXT
        ctx.state.data = {"topic": arg}
        return [Reply(ctx.t("broadcast_type_text"))]
    if action == "area" and "text" in ctx.state.data and ctx.state.name in (Step.AREA, Step.CONFIRM):
        if arg == "all":
            ctx.state.data["commune"] = None
            return _confirm(ctx)
        code = ids.number(arg)
        found = areas.commune(code) if code is not None else None
        if found is None or found.province_code != member.province_code:  # forged, or another province's
            ctx.state.name = Step.AREA  # the text is kept: the official picks the area again
            return [Reply.with_rows(ctx.t("unknown_button") + "\n" + ctx.t("broadcast_pick_area"),
                                    [[_whole_province(ctx)]])]
        ctx.state.data["commune"] = found.code
        return _confirm(ctx)
    if action == "send" and ctx.state.name == Step.CONFIRM:
        data = ctx.state.data
        card = ctx.services.library.cards.get(data.get("card") or "")
        sent = broadcasts.create(ctx.session, by=f"{ctx.message.channel}:{ctx.message.user_id}", text=data["text"],
                                 now=ctx.message.at, topic=data.get("topic"), province_code=member.province_code,
                                 commune_code=data.get("commune"), card_id=card.id if card else None,
                                 card_title=card.title if card else None)
        ctx.state.reset()
        return [menu_reply(ctx, ctx.t("broadcast_queued", count=sent.recipients, id=sent.id))]
    ctx.state.reset()
    return [menu_reply(ctx, ctx.t("report_cancelled"))]


def progress(ctx: Context) -> list[Reply]:
    member = _official(ctx)
    if member is None:
        return [menu_reply(ctx, ctx.t("not_official"))]
    raw = ctx.args.strip().lstrip("#")
    broadcast = broadcasts.get(ctx.session, ids.number(raw))
    if broadcast is None or broadcast.province_code not in (None, member.province_code):
        return [menu_reply(ctx, ctx.t("unknown_button"))]
    counts = broadcasts.progress(ctx.session, broadcast)
    return [Reply(ctx.t("broadcast_progress", id=broadcast.id, **counts))]


def register(router: Router) -> None:
    router.command("guitin", "broadcast")(start)
    router.command("tiendo")(progress)
    router.button(Prefix.BROADCAST)(button)
    router.state(Step.TEXT)(text)
    router.state(Step.AREA)(area)
