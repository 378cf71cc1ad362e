"""Reports an official can sign: units, skipped figures, periods, buttons and bounds.

Conversation tables through the real router and database (SQLite and PostgreSQL), and the
unit table over every field of ``reporting/forms.yaml`` through the parser the router uses.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.storage.db import unit_of_work
from reporting import people
from reporting.forms import Problem, load_forms, parse_answer
from reporting.models import Baseline, Report, ReportingUnit
from tests.builders import HUU_LUNG
from tests.test_report_conversations import Chat, add_baseline, filed_reports, invite, officer, start_form

TODAY = date(2026, 11, 24)

# what a person types in a field of each unit, what the field stores (in its own unit), and
# whether it was converted (then the bot shows the figure back for a «Đúng» first)
UNIT_CASES: dict[str, list[tuple[str, float, bool]]] = {
    "kg": [("200 kg", 200, False), ("2 tạ", 200, True), ("1,5 tấn", 1500, True), ("3 yến", 30, True),
           ("500 g", 0.5, True), ("200", 200, False)],
    "tấn": [("200 kg", 0.2, True), ("2 tạ", 0.2, True), ("1,5 tấn", 1.5, False), ("1.200", 1200, False),
            ("3 yến", 0.03, True)],
    "lít": [("20 lít", 20, False), ("0,5 m3", 500, True), ("2 khối", 2000, True), ("500 ml", 0.5, True)],
    "ha": [("2500 m2", 0.25, True), ("1,5 ha", 1.5, False), ("3 hecta", 3, False), ("0,01 km2", 1, True)],
    "hộ": [("30 hộ", 30, False), ("30", 30, False)],
    "con": [("120 con", 120, False), ("1.200", 1200, False)],
    "người": [("25 người", 25, False), ("25", 25, False)],
    "lồng": [("12 lồng", 12, False)],
    "trang trại": [("3 trang trại", 3, False)],
    "HTX": [("2 HTX", 2, False)],
}
WRONG_UNIT = {"kg": "2 ha", "tấn": "3 lít", "lít": "5 kg", "ha": "5 tấn", "hộ": "5 con", "con": "5 hộ",
              "người": "5 hộ", "lồng": "5 con", "trang trại": "5 hộ", "HTX": "5 hộ"}


def _unit_fields() -> list[tuple[str, str, str]]:
    return [(form.id, f.key, f.unit) for form in load_forms().values() for f in form.fields
            if f.unit and f.kind in {"count", "amount"}]


@pytest.mark.parametrize(("form", "key", "unit"), _unit_fields())
def test_every_unit_field_stores_quantities_in_its_own_unit(form: str, key: str, unit: str) -> None:
    assert unit in UNIT_CASES, f"a field in {unit!r} has no unit table: add its cases here"
    fdef = load_forms()[form].field(key)
    for typed, stored, converted in UNIT_CASES[unit]:
        parsed = parse_answer(fdef, typed, today=TODAY)
        assert parsed.value == pytest.approx(stored), f"{form}.{key}: «{typed}» must be {stored} {unit}"
        assert parsed.approximate is converted, f"{form}.{key}: «{typed}» shown back for confirmation"
    with pytest.raises(Problem) as wrong:
        parse_answer(fdef, WRONG_UNIT[unit], today=TODAY)
    assert wrong.value.code == "number_wrong_unit"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("−500", "số không được âm"),  # U+2212 minus
        ("– 5", "số không được âm"),  # en dash
        ("-5", "số không được âm"),
        ("trừ 5", "số không được âm"),
        ("âm 5", "số không được âm"),
        ("1e9", "không ghi kiểu 1e9"),
        ("10^9", "không ghi kiểu 1e9"),
        ("1.2.3", "Dấu chấm để tách hàng nghìn"),
        ("1,2,3", "Dấu chấm để tách hàng nghìn"),
        ("5 sào", "mỗi vùng rộng khác nhau"),
        ("1,5", "cần số nguyên"),
        ("5 con", "đơn vị «con» không hợp với câu này"),
    ],
)
def test_unusable_numbers_are_refused_with_the_reason_and_the_question_is_asked_again(
        runtime, typed: str, reason: str) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    text = chat.say(typed)
    assert "Chưa nhận được" in text and reason in text and "Câu 1/17" in text
    assert "Đúng không?" not in text
    with runtime.sessions() as s:
        draft = s.scalars(select(Report).where(Report.status == "draft")).one()
        assert "households_applying" not in draft.values  # nothing stored


def test_quantities_in_another_unit_are_converted_and_confirmed_in_the_conversation(runtime) -> None:
    coop = start_form(runtime, "coop-1", people.COOPERATIVE, unit="HTX Rau sạch Hữu Lũng")
    coop.press("Không")
    coop.say("40")
    coop.say("0")
    coop.say("0 hộ biogas")
    text = coop.say("1,5 tấn")  # straw collected, a tonne field
    assert "Chế phẩm vi sinh" in text and "Đơn vị: kg" in text
    assert "Tôi hiểu là 200 kg. Đúng không?" in coop.say("2 tạ")
    text = coop.press("Đúng")
    assert "Đơn vị: lít" in text
    assert "Tôi hiểu là 500 lít" in coop.say("0,5 khối")
    text = coop.press("Đúng")
    assert "1,5 tấn" in text and "200 kg" in text and "500 lít" in text
    coop.press("Gửi")
    values = filed_reports(runtime)[0].values
    assert (values["straw_collected_t"], values["bioproducts_kg"], values["bioproducts_l"]) == (1.5, 200, 500)


@pytest.mark.parametrize("typed", ["bỏ qua", "bo qua", "không có", "ko co", "chưa có số", "Bỏ qua"])
def test_skip_words_skip_an_optional_figure_as_no_data(runtime, typed: str) -> None:
    chat = _commune_at_straw(runtime)
    text = chat.say(typed)  # «Trong đó, làm phân bón» is optional
    assert "Câu 8/17" in text
    with runtime.sessions() as s:
        values = s.scalars(select(Report).where(Report.status == "draft")).one().values
    assert "straw_fertiliser_t" in values and values["straw_fertiliser_t"] is None


@pytest.mark.parametrize("typed", ["bỏ qua", "không có", "ko co"])
def test_a_required_figure_cannot_be_skipped(runtime, typed: str) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    text = chat.say(typed)
    assert "câu này bắt buộc" in text and "Câu 1/17" in text
    assert "Bỏ qua" not in " ".join(chat.labels())


def _commune_at_straw(runtime, user: str = "officer-1", commune: int | None = None):
    """An officer whose commune report is open at «Trong đó, làm phân bón» (question 7)."""
    chat = start_form(runtime, user, people.EXTENSION_OFFICER, commune=commune or HUU_LUNG)
    for answer in ("100", "60", "40", "0", "0", "500"):
        chat.say(answer)
    assert "Câu 7/17" in chat.replies[0].text
    return chat


# -- periods ----------------------------------------------------------------------------------
def test_only_offered_periods_open_a_draft(runtime) -> None:
    chat = officer(runtime)
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    labels = chat.labels()
    assert labels[0].startswith("6 tháng cuối năm 2026") and "nộp bổ sung" not in labels[0]
    assert labels[1].startswith("6 tháng đầu năm 2026") and "nộp bổ sung" not in labels[1]
    late = [lbl for lbl in labels if "nộp bổ sung" in lbl]
    # Lạng Sơn's earliest plan using this form (Nghị quyết 19) starts in 2023
    assert [lbl.split(" (")[0] for lbl in late] == [
        "6 tháng cuối năm 2025", "6 tháng đầu năm 2025", "6 tháng cuối năm 2024", "6 tháng đầu năm 2024",
        "6 tháng cuối năm 2023", "6 tháng đầu năm 2023"]
    assert not any("2027" in lbl.split(" (")[0] or "2022" in lbl.split(" (")[0] for lbl in labels)
    for forged in ("2019S1", "2022S2", "2027S1", "9999S2", "2026S3", "x"):
        text = chat.press_data(f"rpt:period:commune:{forged}")
        assert "Kỳ này không nhận báo cáo" in text or "thuộc báo cáo cũ" in text, forged
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 0  # no draft was opened
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    assert "Câu 1/17" in chat.press("6 tháng đầu năm 2024")  # a late report is welcome


def test_a_filed_late_period_leaves_the_list_and_goes_through_correction(runtime) -> None:
    from tests.builders import filed as file_report

    chat = officer(runtime)
    with unit_of_work(runtime.sessions) as s:
        unit = s.get(ReportingUnit, people.member(s, channel="web", user_id="officer-1").unit_id)
        file_report(s, unit, "commune", _commune_values(), period="2024S1")
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    assert not any(lbl.startswith("6 tháng đầu năm 2024") for lbl in chat.labels())
    text = chat.press_data("rpt:period:commune:2024S1")  # the filed period: the correction path
    assert "đã gửi lúc" in text and "6 tháng đầu năm 2024" in text
    assert "Bác báo cáo cho kỳ nào?" not in text


def _commune_values(**changes: float | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {
        "households_applying": 100, "hh_biogas": 60, "hh_bedding": 40, "hh_compost": 0, "hh_other": 0,
        "straw_reused_t": 500, "straw_fertiliser_t": None, "straw_mushroom_t": None, "straw_feed_t": None,
        "straw_bedding_t": None, "straw_sold_t": None, "byproducts_reused_t": 90, "aquaculture_bio_area_ha": None,
        "fish_cages": None, "farms_reached": 2, "coops_reached": 1, "staff_trained": 4}
    values.update(changes)
    return values


# -- buttons of other drafts, «Gửi», «Huỷ» ---------------------------------------------------------
def test_send_files_only_a_finished_draft_from_its_summary(runtime) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    chat.say("100")
    with runtime.sessions() as s:
        draft_id = s.scalars(select(Report.id).where(Report.status == "draft")).one()
    for forged in (f"rpt:send:{draft_id}", "rpt:send", f"rpt:send:{draft_id + 1}", "rpt:send:abc"):
        text = chat.press_data(forged)
        assert "Nút này thuộc báo cáo cũ" in text, forged
    assert filed_reports(runtime) == []
    assert "Câu 3/17" in chat.say("60")  # the conversation goes on where it was


def test_buttons_of_a_cancelled_draft_change_nothing(runtime) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    chat.press("Hôm nay")
    old_commune_button = chat.button("Xã của tôi")
    text = chat.press("Huỷ")
    assert "1 câu bác đã trả lời sẽ mất" in text
    assert "Đã huỷ" in chat.press("Huỷ báo cáo")
    chat.say("/taphuan")
    text = chat.press_data(old_commune_button)
    assert "Nút này thuộc báo cáo cũ" in text
    assert "Ngày tập huấn" in chat.say("/taphuan")  # the new draft still waits for its first answer
    with runtime.sessions() as s:
        drafts = [*s.scalars(select(Report).where(Report.status == "draft"))]
    assert len(drafts) == 1 and drafts[0].values == {}


def test_cancel_asks_before_answers_are_lost(runtime) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    chat.say("100")
    chat.say("60")
    text = chat.press("Huỷ")
    assert "Huỷ báo cáo đang làm? 2 câu bác đã trả lời sẽ mất." in text
    assert "Huỷ báo cáo đang làm?" in chat.say("2")  # a typed word throws nothing away
    text = chat.press("Làm tiếp")
    assert "Câu 3/17" in text
    assert "Câu 4/17" in chat.say("40")
    text = chat.say("huỷ")  # the label typed: asks too
    assert "3 câu bác đã trả lời sẽ mất" in text
    assert "Đã huỷ" in chat.press("Huỷ báo cáo")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Report).where(Report.status != "cancelled")) == 0


def test_cancel_with_nothing_answered_needs_no_confirmation(runtime) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    assert "Đã huỷ" in chat.press("Huỷ")
    text = chat.say("/taphuan")
    assert "làm dở" not in text and "Ngày tập huấn" in text


# -- bounds ------------------------------------------------------------------------------------
def test_straw_reused_is_bounded_by_straw_generated(runtime) -> None:
    add_baseline(runtime, livestock_households=400, farms=5, cooperatives=2, extension_staff=6,
                 straw_generated_t=2400, byproducts_generated_t=250, aquaculture_area_ha=3)
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    for answer in ("100", "60", "40", "0", "0"):
        chat.say(answer)
    text = chat.say("5 nghìn triệu tấn")
    assert "lớn hơn lượng rơm rạ phát sinh cả năm của xã (2.400 tấn)" in text and "5.000.000.000 tấn" in text
    assert "Câu 6/17" in text
    chat.say("2400")
    for _ in range(5):
        chat.press("Bỏ qua")
    text = chat.say("300")
    assert "lớn hơn lượng phụ phẩm" in text and "(250 tấn)" in text and "300 tấn" in text
    chat.say("250")
    text = chat.say("4 ha")
    assert "(3 ha)" in text and "4 ha" in text and "Câu 13/17" in text


def test_the_year_total_of_straw_is_bounded_too(runtime) -> None:
    from tests.builders import filed as file_report

    add_baseline(runtime, livestock_households=400, straw_generated_t=2400)
    chat = officer(runtime)
    with unit_of_work(runtime.sessions) as s:
        unit = s.get(ReportingUnit, people.member(s, channel="web", user_id="officer-1").unit_id)
        file_report(s, unit, "commune", _commune_values(straw_reused_t=2000, byproducts_reused_t=None),
                    period="2026S1")
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    chat.press("6 tháng cuối năm 2026")
    for answer in ("100", "60", "40", "0", "0"):
        chat.say(answer)
    text = chat.say("600")
    assert "cả năm 2026 sẽ là 2.600 tấn" in text and "kỳ đã nộp 2.000 tấn" in text and "(2.400 tấn)" in text
    assert "Câu 7/17" in chat.say("400")


def test_cooperative_households_are_bounded_by_its_members(runtime) -> None:
    coop = start_form(runtime, "coop-1", people.COOPERATIVE, unit="HTX Chè Hữu Lũng")
    coop.press("Không")
    coop.say("30")
    text = coop.say("31")
    assert "31 hộ" in text and "(30 hộ)" in text
    coop.say("25")
    text = coop.say("30 hộ biogas")  # more than the 25 that apply
    assert "Chưa nhận được" in text and "30 hộ" in text and "25 hộ" in text
    text = coop.say("10 hộ biogas, 5 hộ đệm lót")  # 15 cannot make up the 25 that apply
    assert "Chưa nhận được" in text and "Câu 4/7" in text
    assert "Chưa nhận được" in coop.say("nhiều lắm")
    # a household may use two ways: the parts may add up to more than the total
    assert "Rơm rạ HTX thu gom" in coop.say("20 hộ biogas, 12 hộ đệm lót")


# -- trainings ---------------------------------------------------------------------------------
def test_a_training_is_recorded_only_in_the_officers_province(runtime) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    chat.press("Hôm nay")
    text = chat.say("Ba Đình")  # a ward of Hà Nội
    assert "Không tìm thấy xã «Ba Đình» trong tỉnh" in text
    with runtime.sessions() as s:
        draft_id = s.scalars(select(Report.id).where(Report.status == "draft")).one()
    text = chat.press_data(f"rpt:commune:{draft_id}:commune_code:4")  # forged: Phường Ba Đình
    assert "Xã này không thuộc tỉnh của bác" in text
    assert "Chủ đề tập huấn" in chat.say("Hữu Liên")
    with runtime.sessions() as s:
        assert s.scalars(select(Report).where(Report.status == "draft")).one().values["commune_code"] == 6400


# -- typed numbers never press buttons ---------------------------------------------------------
def test_typed_digits_answer_a_numeric_question_on_every_channel(runtime) -> None:
    for channel, commune in (("zalo", 6385), ("web", 6400), ("telegram", 6391)):
        chat = Chat(runtime, f"officer-{channel}", channel=channel)
        chat.say(invite(runtime, people.EXTENSION_OFFICER, commune=commune))
        chat.say("/baocao")
        chat.press("Báo cáo cấp xã")
        chat.press("6 tháng cuối năm 2026")
        assert chat.replies[0].expects_number
        text = chat.say("2")
        assert "Câu 2/17" in text, channel  # «2» is the answer, not the second button
    with runtime.sessions() as s:
        drafts = [*s.scalars(select(Report).where(Report.status == "draft"))]
    assert [d.values.get("households_applying") for d in drafts] == [2, 2, 2]


def test_the_skipped_figure_is_no_data_in_the_filed_report(runtime) -> None:
    add_baseline(runtime, livestock_households=400, straw_generated_t=2400, byproducts_generated_t=250)
    chat = _commune_at_straw(runtime)
    for _ in range(5):
        chat.say("bỏ qua")
    chat.say("không có")  # by-products
    chat.say("ko co")  # aquaculture area
    chat.say("chưa có số")  # fish cages
    chat.say("2")
    chat.say("1")
    text = chat.say("4")
    assert text.count("(bỏ qua — thiếu số liệu)") == 8
    chat.press("Gửi")
    values = filed_reports(runtime)[0].values
    assert values["byproducts_reused_t"] is None and values["fish_cages"] is None
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Baseline)) == 1


# -- what a fresh review found -------------------------------------------------------------------
def test_parts_in_decimals_add_up_exactly(runtime) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    for answer in ("100", "60", "40", "0", "0"):
        chat.say(answer)
    chat.say("3,3")
    chat.say("1,1")
    assert "Câu 9/17" in chat.say("2,2")  # 1,1 + 2,2 = 3,3, not 3,3000000000000003


def test_old_buttons_never_throw_answers_away(runtime) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    chat.say("100")
    chat.say("60")
    assert "Nút này thuộc báo cáo cũ" in chat.press_data("rpt:restart:commune")  # the old form of the button
    for old in ("rpt:period:commune:2026S1", "rpt:period:commune:2026S2"):
        text = chat.press_data(old)
        assert "làm dở" in text and "đã trả lời 2/17 câu" in text
    with runtime.sessions() as s:
        draft = s.scalars(select(Report).where(Report.status == "draft")).one()
    assert draft.values == {"households_applying": 100, "hh_biogas": 60}
    assert "Câu 3/17" in chat.press("Tiếp tục")


@pytest.mark.parametrize("forged", ["rpt:correct:²", "rpt:correct:99999999999999999999999", "rpt:correct:-1",
                                    "rpt:commune:{draft}:commune_code:²", "rpt:editf:{draft}:nope",
                                    "rpt:pick:{draft}:households_applying:yes", "rpt:send:{draft}:x:y:z"])
def test_forged_buttons_get_a_polite_answer_not_an_error(runtime, forged: str) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    chat.press("Hôm nay")
    with runtime.sessions() as s:
        draft_id = s.scalars(select(Report.id).where(Report.status == "draft")).one()
    assert "Nút này thuộc báo cáo cũ" in chat.press_data(forged.format(draft=draft_id))
    assert "Chủ đề tập huấn" in chat.say("Hữu Lũng")  # the conversation is where it was


def test_a_required_choice_emptied_while_correcting_cannot_be_filed(runtime) -> None:
    farm = start_form(runtime, "farm-1", people.FARM, unit="Trại lợn Bình An")
    farm.press("Hầm biogas")
    farm.press("Xong")
    for answer in ("120", "0", "0"):
        farm.say(answer)
    farm.press("Sửa")
    farm.press("Trang trại xử lý chất thải chăn nuôi bằng cách nào")
    farm.press("Hầm biogas")  # unticked: nothing chosen
    text = farm.say("quay lại")
    assert "Còn 1 câu bắt buộc chưa trả lời" in text and "✅ Gửi" not in farm.labels()
    with runtime.sessions() as s:
        draft_id = s.scalars(select(Report.id).where(Report.status == "draft")).one()
    assert "Nút này thuộc báo cáo cũ" in farm.press_data(f"rpt:send:{draft_id}")
    assert filed_reports(runtime) == []


def test_typing_dung_confirms_a_figure_shown_back(runtime) -> None:
    chat = start_form(runtime, "officer-1", people.EXTENSION_OFFICER)
    assert "Tôi hiểu là 150 hộ" in chat.say("khoảng 150")
    assert chat.replies[0].expects_number  # typing the figure again stays an answer
    assert "Câu 2/17" in chat.say("đúng")
    assert "Tôi hiểu là 90 hộ" in chat.say("tầm 90")
    assert "Câu 2/17" in chat.say("sai")
    assert "Câu 3/17" in chat.say("80")


def test_a_cooperative_with_no_household_applying_answers_zero(runtime) -> None:
    coop = start_form(runtime, "coop-1", people.COOPERATIVE, unit="HTX Chè Hữu Lũng")
    coop.press("Không")
    coop.say("30")
    coop.say("0")
    assert "Rơm rạ HTX thu gom" in coop.say("0")


def test_a_training_before_the_plans_start_is_refused(runtime) -> None:
    chat = officer(runtime)
    chat.say("/taphuan")
    text = chat.say("10/12/2023")  # in the year 2023 (to 14/12); Lạng Sơn's plans with trainings start in 2024
    assert "trước khi kế hoạch của tỉnh bắt đầu (năm 2024)" in text and "Ngày tập huấn" in text
