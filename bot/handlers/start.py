"""/start, /help, /menu: greet, explain, and show the topics."""

from __future__ import annotations

from bot.conversation.callbacks import Prefix
from bot.conversation.router import Context, Router
from bot.conversation.types import Reply
from bot.handlers.common import menu_reply
from bot.handlers.invites import is_code_attempt, redeem


def start(ctx: Context) -> list[Reply]:
    if ctx.args and is_code_attempt(ctx.args):  # deep link t.me/<bot>?start=CODE
        return redeem(ctx, ctx.args)
    ctx.state.reset()
    name = ctx.message.display_name or "bác"
    return [menu_reply(ctx, ctx.t("start_welcome", name=name))]


def help_(ctx: Context) -> list[Reply]:
    ctx.state.reset()
    return [menu_reply(ctx, ctx.t("help"))]


def menu(ctx: Context) -> list[Reply]:
    ctx.state.reset()
    return [menu_reply(ctx)]


def unknown_command(ctx: Context) -> list[Reply]:
    command = (ctx.message.text or "").split()[0]
    return [menu_reply(ctx, ctx.t("unknown_command", command=command) + "\n\n" + ctx.t("help"))]


def unknown_button(ctx: Context) -> list[Reply]:
    return [menu_reply(ctx, ctx.t("unknown_button"))]


def register(router: Router) -> None:
    router.command("start", "batdau")(start)
    router.command("help", "huongdan", "trogiup")(help_)
    router.command("menu", "chude")(menu)
    router.button(Prefix.MENU)(menu)
    router.button(Prefix.HELP)(help_)
    router.unknown_command = unknown_command
    router.unknown_button = unknown_button
