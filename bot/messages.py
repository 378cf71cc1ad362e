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
    "not_official": set(),
    "no_plans": set(),
    "pick_plan": set(),
    "pick_indicator_period": {"plan"},
    "indicators_title": {"plan", "period"},
    "indicator_line": {"title", "value", "target", "reporting", "total"},
    "indicator_target": {"target"},
    "completeness_line": {"form", "period", "received", "expected", "on_time", "deadline"},
    "chart_caption": {"title"},
    "workbook_caption": set(),
    "btn_indicators": set(),
    "invite_ok": {'role', 'unit'},
    "invite_wrong": set(),
    "invite_used": set(),
    "invite_expired": set(),
    "invite_revoked": set(),
    "invite_slow_down": {'minutes'},
    "not_reporter": set(),
    "official_no_forms": set(),
    "pick_form": set(),
    "resume_draft": {'answered', 'form', 'period', 'total'},
    "pick_period": {'form', 'unit'},
    "already_filed": {'filed', 'form', 'period', 'version'},
    "field_question": {'index', 'label', 'total'},
    "field_unit": {'unit'},
    "field_optional": set(),
    "field_choices_done": {'chosen'},
    "confirm_value": {'typed', 'value'},
    "answer_problem": {'reason'},
    "pick_at_least_one": set(),
    "commune_not_found": {'typed'},
    "pick_commune": {'typed'},
    "summary_title": {'form', 'period', 'unit'},
    "summary_deadline": {'deadline'},
    "summary_prompt": set(),
    "pick_field_to_edit": set(),
    "filed_ok": {'form', 'period', 'unit', 'version'},
    "filed_late": {'deadline'},
    "corrected_ok": {'changes', 'form', 'period', 'version'},
    "corrected_nothing": {'version'},
    "filed_problem": {'reason'},
    "report_cancelled": set(),
    "report_expired": set(),
    "btn_report": set(),
    "btn_resume": set(),
    "btn_restart": set(),
    "btn_back": set(),
    "btn_skip": set(),
    "btn_cancel": set(),
    "btn_send": set(),
    "btn_edit": set(),
    "btn_done": set(),
    "btn_yes": set(),
    "btn_no": set(),
    "btn_confirm": set(),
    "btn_retype": set(),
    "btn_today": set(),
    "btn_correct": set(),
    "btn_my_commune": {'name'},
    "role_extension_officer": set(),
    "role_cooperative": set(),
    "role_farm": set(),
    "role_provincial_official": set(),
    "role_admin": set(),
    "err_number_empty": set(),
    "err_number_not_a_number": set(),
    "err_number_negative": set(),
    "err_number_several_numbers": set(),
    "err_number_not_whole": set(),
    "err_number_wrong_unit": {'typed', 'unit'},
    "err_yes_or_no": set(),
    "err_bad_date": set(),
    "err_date_in_future": {'date'},
    "err_date_too_old": {'date'},
    "err_pick_a_button": set(),
    "err_part_above_total": {'part', 'total', 'total_label', 'value'},
    "err_total_above_parts": {'sum', 'total', 'total_label'},
    "err_parts_above_total": {'sum', 'total', 'total_label'},
    "err_above_baseline": {'field', 'limit', 'value'},
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def check_messages(texts: Mapping[str, str]) -> list[Problem]:
    problems = []
    for key, fields in REQUIRED.items():
        if key not in texts:
            problems.append(Problem("messages.yaml", key, "missing"))
        elif not _fields(texts[key]) <= fields:
            problems.append(
                Problem("messages.yaml", key, f"placeholders must be among {sorted(fields) or 'none'}")
            )
    return problems


class Messages:
    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)

    def __call__(self, key: str, **values: object) -> str:
        return self._texts[key].format(**values) if values else self._texts[key]
