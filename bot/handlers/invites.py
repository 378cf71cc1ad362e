"""Invite codes: "/start CODE" (a Telegram deep link) or the code typed as a message."""

from __future__ import annotations

import re

from bot.conversation.router import Context
from bot.conversation.types import Reply
from bot.handlers.common import menu_reply
from reporting import areas, people
from reporting.vocabulary import UnitKind

_CODE_SHAPE = re.compile(r"^\s*[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}\s*$")


def is_code_attempt(text: str) -> bool:
    """A message that is an invite code, not a question: 8 code letters, with a digit, a dash or in capitals."""
    if not _CODE_SHAPE.match(text) or not people.looks_like_code(text):
        return False
    stripped = text.strip()
    return "-" in stripped or any(ch.isdigit() for ch in stripped) or stripped.isupper()


def redeem(ctx: Context, code: str) -> list[Reply]:
    msg = ctx.message
    try:
        member = people.redeem(ctx.session, channel=msg.channel, user_id=msg.user_id, code=code, now=msg.at,
                                address=msg.client_address)
    except people.InviteError as exc:
        if exc.reason == "slow_down":
            return [Reply(ctx.t("invite_slow_down", minutes=exc.wait_minutes))]
        return [Reply(ctx.t(f"invite_{exc.reason}"))]
    ctx.state.reset()
    unit = people.unit(ctx.session, member.unit_id)
    if unit is not None:
        commune = areas.commune(unit.commune_code)
        where = unit.name if unit.kind == UnitKind.COMMUNE else f"{unit.name} ({commune.name if commune else ''})"
    else:
        province = areas.province(member.province_code)
        where = f"tỉnh {province.name}" if province else ""
    return [menu_reply(ctx, ctx.t("invite_ok", role=ctx.t(f"role_{member.role}"), unit=where))]
