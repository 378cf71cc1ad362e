"""The message catalogue: user-facing texts live in ``content/messages.yaml``, used by key."""

from __future__ import annotations

import string
from collections.abc import Mapping

from bot.knowledge.cards import Problem

REQUIRED: dict[str, set[str]] = {
    "start_welcome": {"name"},
    "help": set(),
    "menu_prompt": set(),
    "topic_prompt": {"title", "description"},
    "topic_unknown": set(),
    "card_unknown": set(),
    "card_source": {"sources", "reviewed"},
    "ask_prompt": set(),
    "ambiguous_prompt": set(),
    "fallback": set(),
    "officer_ask_question": set(),
    "officer_logged": {"question"},
    "media_received": {"kind"},
    "media_photo": set(),
    "media_voice": set(),
    "media_audio": set(),
    "media_video": set(),
    "media_sticker": set(),
    "media_location": set(),
    "media_document": set(),
    "unknown_button": set(),
    "unknown_command": {"command"},
    "empty_text": set(),
    "too_long": {"limit"},
    "btn_menu": set(),
    "btn_officer": set(),
    "btn_ask": set(),
    "btn_help": set(),
    "btn_back_topic": {"title"},
    "related_header": set(),
    "cmd_start": set(),
    "cmd_menu": set(),
    "cmd_hoi": set(),
    "cmd_help": set(),
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def check_messages(texts: Mapping[str, str]) -> list[Problem]:
    problems = []
    for key, fields in REQUIRED.items():
        if key not in texts:
            problems.append(Problem("messages.yaml", key, "missing"))
        elif _fields(texts[key]) != fields:
            problems.append(
                Problem("messages.yaml", key, f"placeholders must be {sorted(fields) or 'none'}")
            )
    return problems


class Messages:
    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)

    def __call__(self, key: str, **values: object) -> str:
        return self._texts[key].format(**values) if values else self._texts[key]
