"""Buttons and rendering shared by handlers; callback data comes from ``bot.conversation.callbacks``."""

from __future__ import annotations

import re

from bot.conversation.callbacks import Prefix, build
from bot.conversation.router import Context
from bot.conversation.types import Button, Reply
from bot.knowledge.cards import Card
from reporting import areas, people
from reporting.vocabulary import OFFICIALS, UNIT_KIND, Role

LAST_QUESTION = "last_question"  # state data: the farmer's last question, for «Hỏi cán bộ»

MAX_RELATED = 3


def menu_button(ctx: Context) -> Button:
    return Button(ctx.t("btn_menu"), build(Prefix.MENU))


def officer_button(ctx: Context) -> Button:
    return Button(ctx.t("btn_officer"), build(Prefix.OFFICER))


def topic_rows(ctx: Context) -> list[list[Button]]:
    return [[Button(t.title, build(Prefix.TOPIC, t.id))] for t in ctx.services.library.topics]


REPORTER_ROLES = tuple(UNIT_KIND)  # the roles that report for a unit


def menu_reply(ctx: Context, text: str | None = None) -> Reply:
    rows = topic_rows(ctx)
    rows.append([Button(ctx.t("btn_ask"), build(Prefix.ASK)), Button(ctx.t("btn_help"), build(Prefix.HELP))])
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is not None and member.role in REPORTER_ROLES:
        rows.append([Button(ctx.t("btn_report"), build(Prefix.REPORT, "start"))])
    if member is not None and member.role in OFFICIALS:
        rows.append([Button(ctx.t("btn_indicators"), build(Prefix.INDICATORS, "start"))])
    if member is not None and (member.role in OFFICIALS or member.role == Role.EXTENSION_OFFICER):
        rows.append([Button(ctx.t("btn_questions"), build(Prefix.HANDOVER, "list"))])  # /cauhoi
    return Reply.with_rows(text or ctx.t("menu_prompt"), rows)


def _plain(markdown: str) -> str:
    """Card Markdown as chat text: headings stand out, bullets become •, no stray symbols."""
    lines = []
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            icon = "⚠️ " if heading.lower().startswith("lưu ý an toàn") else "▶ "
            lines.append(f"{icon}{heading.upper()}")
            continue
        stripped = re.sub(r"^[-*]\s+", "• ", stripped)
        lines.append(re.sub(r"\*\*(.+?)\*\*", r"\1", stripped))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


SAFETY_HEADING = "lưu ý an toàn"
SHORT_LIMIT = 900  # the first message of an answer fits a phone's screen or two


def safety_line(card: Card) -> str | None:
    """The first line of the card's «Lưu ý an toàn» section: the one a farmer must not miss."""
    in_safety = False
    for line in card.body.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            in_safety = stripped.lstrip("#").strip().lower().startswith(SAFETY_HEADING)
            continue
        if in_safety and stripped:
            return re.sub(r"\*\*(.+?)\*\*", r"\1", re.sub(r"^[-*]\s+", "", stripped))
    return None


def card_short_text(ctx: Context, card: Card) -> str:
    """Title, the direct answer, the safety line, and where the rest is."""
    parts = [f"📗 {card.title.upper()}", card.summary]
    safety = safety_line(card)
    if safety:
        parts.append(f"⚠️ {safety}")
    parts.append(ctx.t("card_more"))
    return "\n\n".join(parts)


def feedback_row(ctx: Context, card: Card) -> list[Button]:
    """«Hữu ích» / «Chưa đúng» under a card."""
    return [Button(ctx.t("btn_useful"), build(Prefix.FEEDBACK, "up", card.id)),
            Button(ctx.t("btn_not_right"), build(Prefix.FEEDBACK, "down", card.id))]


def card_reply(ctx: Context, card: Card) -> Reply:
    """The short answer (fits a phone); «Xem đầy đủ» for the rest; related cards and an officer."""
    library = ctx.services.library
    rows = [[Button(ctx.t("btn_full_card"), build(Prefix.FULL, card.id))], feedback_row(ctx, card)]
    rows += [
        [Button(f"➡️ {library.cards[r].title}", build(Prefix.CARD, r))]
        for r in card.related[:MAX_RELATED]
        if r in library.cards
    ]
    topic = library.topic(card.topic)
    back = Button(ctx.t("btn_back_topic", title=topic.title), build(Prefix.TOPIC, topic.id)) if topic else None
    rows.append([officer_button(ctx)])
    rows.append([b for b in (back, menu_button(ctx)) if b is not None])
    return Reply.with_rows(card_short_text(ctx, card), rows)


def card_full_reply(ctx: Context, card: Card) -> Reply:
    """The whole card with its sources."""
    text = "\n\n".join(
        [
            ctx.t("card_full_header", title=card.title.upper()),
            _plain(card.body),
            ctx.t("card_source", sources=card.source_line(), reviewed=card.reviewed.strftime("%d/%m/%Y")),
        ]
    )
    rows = [feedback_row(ctx, card)]
    rows.append([officer_button(ctx)])
    rows.append([menu_button(ctx)])
    return Reply.with_rows(text, rows)


def find_commune(ctx: Context, text: str, prefix: Prefix, *parts: str) -> int | list[Reply]:
    """The commune the user typed (any province), or the reply asking again / offering choices.

    Choices are buttons ``<prefix>:<parts>:<code>`` labelled "Xã X, Tỉnh Y".
    """
    text = text.strip()
    found = areas.find_communes(text, limit=6) if text else []
    if len(found) == 1:
        return found[0].code
    if not found:
        return [Reply(ctx.t("commune_unknown", typed=text))]
    rows = []
    for c in found:
        province = areas.province(c.province_code)
        rows.append([Button(f"{c.name}, {province.name if province else ''}"[:60], build(prefix, *parts, c.code))])
    return [Reply.with_rows(ctx.t("commune_choose"), rows)]
