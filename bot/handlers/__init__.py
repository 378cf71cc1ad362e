"""Feature handlers. They see only the conversation types, never a platform's."""

from __future__ import annotations

from bot.conversation.router import Router
from bot.handlers import ask, broadcast, browse, feedback, handover, officials, report, start


def register_all(router: Router) -> None:
    start.register(router)
    browse.register(router)
    handover.register(router)
    feedback.register(router)
    report.register(router)
    officials.register(router)
    broadcast.register(router)
    ask.register(router)
