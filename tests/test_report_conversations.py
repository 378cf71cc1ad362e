"""Reporting conversations through the real router and database: invites, forms, corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import create_runtime
from bot.storage.db import unit_of_work
from reporting import people
from reporting.models import Baseline, Member, Report, ReportChange
from tests.builders import HUU_LUNG

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam: period 2026S2 is open


class Chat:
    """One person talking to the bot; remembers the last buttons like a phone screen does."""

    def __init__(self, runtime, user: str = "officer-1", channel: str = "web") -> None:
        self.rt, self.user, self.channel = runtime, user, channel
        self.replies: list[Reply] = []
        self.at = NOW

    def say(self, text: str) -> str:
        return self._send(IncomingMessage(channel=self.channel, user_id=self.user, text=text, at=self.at))

    def press(self, label_part: str) -> str:
        data = self.button(label_part)
        return self._send(IncomingMessage(channel=self.channel, user_id=self.user, button=data, at=self.at))

    def press_data(self, data: str) -> str:
        return self._send(IncomingMessage(channel=self.channel, user_id=self.user, button=data, at=self.at))

    def button(self, label_part: str) -> str:
        for reply in self.replies:
            for row in reply.buttons:
                for b in row:
                    if label_part in b.text:
                        return b.data
        raise AssertionError(f"no button {label_part!r} in {self.labels()}")

    def labels(self) -> list[str]:
        return [b.text for r in self.replies for row in r.buttons for b in row]

    def _send(self, message: IncomingMessage) -> str:
        self.replies = self.rt.handle(message)
        self.at += timedelta(seconds=5)
        return "\n".join(r.text for r in self.replies)


def invite(rt, role: str, unit: str | None = None, commune: int = HUU_LUNG) -> str:
    with unit_of_work(rt.sessions) as session:
        return people.format_code(people.create_invite(session, role=role, commune_code=commune, unit_name=unit,
                                                       now=NOW).code)


def add_baseline(rt, **values: float) -> None:
    with unit_of_work(rt.sessions) as session:
        session.add(Baseline(commune_code=HUU_LUNG, province_code=20, year=2026, **values))


def filed_reports(rt) -> list[Report]:
    with rt.sessions() as session:
        return [*session.scalars(select(Report).where(Report.status == "filed").order_by(Report.id))]


def officer(rt, user: str = "officer-1") -> Chat:
    chat = Chat(rt, user)
    assert "Đăng ký thành công" in chat.say(invite(rt, people.EXTENSION_OFFICER))
    return chat


def start_form(rt, user: str, role: str, *, unit: str | None = None, commune: int = HUU_LUNG,
               period: str = "6 tháng cuối năm 2026") -> Chat:
    """A newly invited person with their unit's form open at question 1 (the first form offered)."""
    chat = Chat(rt, user)
    assert "Đăng ký thành công" in chat.say(invite(rt, role, unit=unit, commune=commune))
    chat.say("/baocao")
    if role == people.EXTENSION_OFFICER:
        chat.press("Báo cáo cấp xã")
    assert "Câu 1/" in chat.press(period)
    return chat


def test_a_farmer_cannot_open_a_report_form(runtime) -> None:
    chat = Chat(runtime, "farmer")
    assert "dành cho cán bộ khuyến nông xã, HTX và trang trại" in chat.say("/baocao")
    assert not any(lbl.startswith("📝") for lbl in chat.labels())
    assert "dành cho" in chat.press_data("rpt:form:commune")


def test_invite_codes_typed_or_by_deep_link(runtime) -> None:
    code = invite(runtime, people.COOPERATIVE, unit="HTX Nông nghiệp Xanh")
    chat = Chat(runtime, "coop")
    assert "Mã mời không đúng" in chat.say("ZZZZ-9999")
    text = chat.say(f"/start {code.replace('-', '')}")
    assert "Đăng ký thành công" in text and "HTX Nông nghiệp Xanh" in text and "đại diện HTX" in text
    assert "📝 Báo cáo" in chat.labels()
    other = Chat(runtime, "someone-else")
    assert "đã được dùng" in other.say(code)
    for _ in range(people.MAX_FAILURES):
        other.say("ABCD-2345")
    assert "đợi khoảng" in other.say(invite(runtime, people.FARM, unit="Trại X"))


def test_commune_report_one_question_at_a_time_with_checks(runtime) -> None:
    add_baseline(runtime, livestock_households=400, farms=5, cooperatives=2, extension_staff=6)
    chat = officer(runtime)
    assert "Bác muốn gửi báo cáo nào?" in chat.say("/baocao")
    text = chat.press("Báo cáo cấp xã")
    assert "Bác báo cáo cho kỳ nào?" in text
    assert chat.labels()[0].startswith("6 tháng cuối năm 2026")  # the current period first
    assert chat.labels()[1].startswith("6 tháng đầu năm 2026")
    text = chat.press("6 tháng cuối năm 2026")
    assert "Câu 1/17" in text and "Đơn vị: hộ" in text

    assert "Chưa nhận được" in chat.say("nhiều lắm")
    assert "Câu 1/17" in chat.replies[0].text  # the same question again
    assert "lớn hơn số hộ chăn nuôi của xã (400 hộ)" in chat.say("450")
    assert "Tôi hiểu là 150 hộ. Đúng không?" in chat.say("khoảng 150")
    assert "Câu 2/17" in chat.press("Đúng")
    text = chat.say("200")
    assert "lớn hơn «Số hộ chăn nuôi" in text and "Câu 2/17" in text
    assert "Câu 3/17" in chat.say("100")
    assert "Câu 2/17" in chat.press("Quay lại")
    assert "Câu 3/17" in chat.say("100")
    chat.say("60")
    chat.say("0")
    text = chat.say("0")  # hh_other: 100+60+0+0 = 160 ≥ 150
    assert "Câu 6/17" in text and "Đơn vị: tấn" in text
    assert "Câu 7/17" in chat.say("1.200 tấn")
    text = chat.press("Bỏ qua")
    assert "Câu 8/17" in text
    for _ in range(4):
        chat.press("Bỏ qua")
    assert "Câu 12/17" in chat.replies[0].text
    chat.press("Bỏ qua")
    assert "Câu 13/17" in chat.say("2500 m2") or "Đúng không?" in chat.replies[0].text
    chat.press("Đúng")  # 2500 m² → 0,25 ha confirmed
    chat.say("3")  # fish cages
    chat.say("2")
    chat.say("1")
    text = chat.say("4")
    assert "Xem lại «Báo cáo cấp xã»" in text
    assert "• Số hộ chăn nuôi trong xã đang áp dụng xử lý chất thải (hộ dùng hai cách chỉ tính một lần): 150 hộ" in text
    assert "1.200 tấn" in text and "0,25 ha" in text and "(bỏ qua — thiếu số liệu)" in text
    assert "Hạn nộp: 30/11/2026" in text

    chat.press("Sửa")
    assert "Câu 15/17" in chat.press("Số trang trại đã được tập huấn")
    text = chat.say("3")
    assert "Xem lại" in text and ": 3 trang trại" in text
    text = chat.press("Gửi")
    assert "✅ Đã gửi «Báo cáo cấp xã»" in text and "phiên bản 1" in text and "muộn" not in text
    reports = filed_reports(runtime)
    assert len(reports) == 1
    assert reports[0].values["households_applying"] == 150 and reports[0].values["straw_reused_t"] == 1200
    assert reports[0].period == "2026S2" and reports[0].late is False

    # the old "Gửi" button pressed again files nothing more
    chat.press_data("rpt:send")
    assert len(filed_reports(runtime)) == 1


def test_a_form_survives_a_restart_and_is_resumed(settings) -> None:
    first = create_runtime(settings)
    chat = officer(first)
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    chat.press("6 tháng cuối năm 2026")
    chat.say("120")
    assert "Câu 2/17" in chat.replies[0].text
    first.close()

    second = create_runtime(settings)
    try:
        chat.rt = second
        assert "Câu 3/17" in chat.say("80")  # the next answer goes on where it stopped
        chat.say("/menu")  # days later, after doing something else
        chat.at += timedelta(days=3)
        chat.say("/baocao")
        text = chat.press("Báo cáo cấp xã")
        assert "làm dở" in text and "đã trả lời 2/17 câu" in text
        assert "Câu 3/17" in chat.press("Tiếp tục")
        assert "Câu 4/17" in chat.say("50")
        chat.say("/baocao")
        chat.press("Báo cáo cấp xã")
        assert "Bác báo cáo cho kỳ nào?" in chat.press("Làm lại từ đầu")
    finally:
        second.close()


def test_correcting_a_filed_report_keeps_an_audit_trail(runtime) -> None:
    chat = officer(runtime)
    code = invite(runtime, people.FARM, unit="Trại lợn Bình An")
    farm = Chat(runtime, "farm-1")
    farm.say(code)
    farm.say("/baocao")
    assert "Báo cáo trang trại" in farm.replies[0].text
    farm.press("6 tháng cuối năm 2026")
    farm.press("Hầm biogas")
    farm.press("Đệm lót")
    text = farm.press("Chưa xử lý")  # "none" excludes the others
    assert "Đã chọn: Chưa xử lý." in text
    farm.press("Hầm biogas")  # choosing a technology removes "none"
    assert "Đã chọn: Hầm biogas." in farm.replies[0].text
    farm.press("Xong")
    farm.say("120")
    farm.say("0")
    farm.say("khong co")
    assert "Chưa nhận được" in farm.replies[0].text
    text = farm.say("0")
    assert "Xem lại «Báo cáo trang trại» — Trại lợn Bình An" in text
    farm.press("Gửi")

    farm.say("/baocao")
    text = farm.press("6 tháng cuối năm 2026")
    assert "đã gửi lúc" in text and "phiên bản 1" in text
    farm.press("Sửa báo cáo này")
    farm.press("Sửa")
    farm.press("Số lợn")
    farm.say("135")
    text = farm.press("Gửi")
    assert "phiên bản 2" in text and "Số lợn hiện có (cuối kỳ): 120 con → 135 con" in text
    with runtime.sessions() as s:
        changes = [(c.field, c.old_value, c.new_value, c.changed_by) for c in s.scalars(select(ReportChange))]
        assert s.scalar(select(func.count()).select_from(Report).where(Report.status == "filed")) == 1
    assert changes == [("pigs", "120", "135", "web:farm-1")]
    # a farm cannot touch the commune's or another unit's report
    assert "thuộc báo cáo cũ" in chat.press_data(f"rpt:correct:{filed_reports(runtime)[0].id}")


def test_cooperative_report_asks_which_process_only_after_yes(runtime) -> None:
    coop = Chat(runtime, "coop-1")
    coop.say(invite(runtime, people.COOPERATIVE, unit="HTX Chè Hữu Lũng"))
    coop.say("/baocao")
    coop.press("6 tháng cuối năm 2026")
    text = coop.press("Không")
    assert "Số hộ xã viên" in text and "Câu 2/7" in text  # the "which process" question is skipped
    assert "Câu 1/7" in coop.press("Quay lại")
    text = coop.press("Có")
    assert "HTX áp dụng cách nào?" in text and "Câu 2/8" in text
    assert "ít nhất một mục" in coop.press("Xong")
    coop.press("Tái dùng rơm rạ")
    coop.press("Xong")
    coop.say("60")  # member households
    assert "lớn hơn «Số hộ xã viên của HTX» (60 hộ)" in coop.say("70")
    coop.say("35")
    text = coop.say("20 hộ biogas, 15 hộ đệm lót")  # one message answers the breakdown
    assert "Rơm rạ HTX thu gom" in text
    coop.say("12,5")
    coop.press("Bỏ qua")
    text = coop.press("Bỏ qua")
    assert "Tái dùng rơm rạ" in text and "12,5 tấn" in text and "Hầm biogas 20 hộ, Đệm lót sinh học 15 hộ" in text
    coop.press("Gửi")
    values = filed_reports(runtime)[0].values
    assert values["process_kinds"] == ["straw"]
    assert (values["member_hh_biogas"], values["member_hh_bedding"], values["member_hh_compost"]) == (20, 15, 0)


def test_training_log_checks_date_commune_and_parts(runtime) -> None:
    chat = officer(runtime)
    text = chat.say("/taphuan")
    assert "Ngày tập huấn" in text
    assert "chưa tới" in chat.say("25/12/2026")
    assert "Xã nơi tập huấn" in chat.say("20/11/2026")
    assert "Xã của tôi: Xã Hữu Lũng" in chat.labels()
    assert "Không tìm thấy xã" in chat.say("xã không có thật")
    text = chat.say("huu lien")
    assert "Chủ đề tập huấn" in text
    chat.press("Biogas")
    chat.press("Rơm rạ")
    chat.press("Xong")
    chat.say("18")
    assert "lớn hơn «Tổng số người dự»" in chat.say("20")
    chat.say("7")
    chat.say("5")
    chat.say("2")
    chat.say("1")
    text = chat.say("0")
    assert "Xã Hữu Liên" in text and "Biogas, Rơm rạ" in text and "20/11/2026" in text
    assert "Hạn nộp" not in text
    text = chat.press("Gửi")
    assert "✅ Đã gửi «Ghi nhận tập huấn»" in text
    report = filed_reports(runtime)[0]
    assert report.period == "2026" and report.event_date.isoformat() == "2026-11-20"


def test_cancel_discards_the_draft(runtime) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    assert "Đã huỷ" in chat.press("Huỷ")
    text = chat.say("/taphuan")
    assert "làm dở" not in text and "Ngày tập huấn" in text


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
def test_a_role_is_bound_to_one_identity_on_its_channel(runtime, channel) -> None:
    code = invite(runtime, people.EXTENSION_OFFICER)
    chat = Chat(runtime, "same-id", channel=channel)
    chat.say(code)
    with runtime.sessions() as s:
        members = [(m.channel, m.user_id, m.role) for m in s.scalars(select(Member))]
    assert members == [(channel, "same-id", "extension_officer")]
    assert "dành cho" in Chat(runtime, "same-id", channel="web").say("/baocao")
