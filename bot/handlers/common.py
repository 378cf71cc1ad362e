"""Buttons and rendering shared by handlers. Callback data is ``prefix:argument``."""

from __future__ import annotations

import re

from bot.conversation.router import Context
from bot.conversation.types import Button, Reply
from bot.knowledge.cards import Card
from reporting import areas, people

MENU = "menu"
TOPIC = "topic"
CARD = "card"
FULL = "full"
LAST_QUESTION = "last_question"
OFFICER = "officer"
ASK = "ask"
HELP = "help"

MAX_RELATED = 3


def menu_button(ctx: Context) -> Button:
    return Button(ctx.t("btn_menu"), MENU)


def officer_button(ctx: Context) -> Button:
    return Button(ctx.t("btn_officer"), OFFICER)


def topic_rows(ctx: Context) -> list[list[Button]]:
    return [[Button(t.title, f"{TOPIC}:{t.id}")] for t in ctx.services.library.topics]


REPORT = "rpt"
REPORTER_ROLES = tuple(people.UNIT_KIND)  # the roles that report for a unit


def menu_reply(ctx: Context, text: str | None = None) -> Reply:
    rows = topic_rows(ctx)
    rows.append([Button(ctx.t("btn_ask"), ASK), Button(ctx.t("btn_help"), HELP)])
    member = people.member(ctx.session, channel=ctx.message.channel, user_id=ctx.message.user_id)
    if member is not None and member.role in REPORTER_ROLES:
        rows.append([Button(ctx.t("btn_report"), f"{REPORT}:start")])
    if member is not None and member.role in ("provincial_official", "admin"):
        rows.append([Button(ctx.t("btn_indicators"), "ind:start")])
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


def card_reply(ctx: Context, card: Card) -> Reply:
    """The short answer (fits a phone); «Xem đầy đủ» for the rest; related cards and an officer."""
    library = ctx.services.library
    rows = [[Button(ctx.t("btn_full_card"), f"{FULL}:{card.id}")]]
    rows.append([Button(ctx.t("btn_useful"), f"fb:up:{card.id}"), Button(ctx.t("btn_not_right"), f"fb:down:{card.id}")])
    rows += [
        [Button(f"➡️ {library.cards[r].title}", f"{CARD}:{r}")]
        for r in card.related[:MAX_RELATED]
        if r in library.cards
    ]
    topic = library.topic(card.topic)
    back = Button(ctx.t("btn_back_topic", title=topic.title), f"{TOPIC}:{topic.id}") if topic else None
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
    rows = [[Button(ctx.t("btn_useful"), f"fb:up:{card.id}"), Button(ctx.t("btn_not_right"), f"fb:down:{card.id}")]]
    rows.append([officer_button(ctx)])
    rows.append([menu_button(ctx)])
    return Reply.with_rows(text, rows)


def find_commune(ctx: Context, text: str, button_prefix: str) -> int | list[Reply]:
    """The commune the user typed (any province), or the reply asking again / offering choices.

    Choices are buttons ``<button_prefix><code>`` labelled "Xã X, Tỉnh Y".
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
        rows.append([Button(f"{c.name}, {province.name if province else ''}"[:60], f"{button_prefix}{c.code}")])
    return [Reply.with_rows(ctx.t("commune_choose"), rows)]
