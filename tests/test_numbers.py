from decimal import Decimal

import pytest

from reporting.numbers import NumberError, format_number, parse_number


@pytest.mark.parametrize(
    ("typed", "unit", "value", "approx"),
    [
        ("1.200", None, "1200", False),
        ("1,5", None, "1.5", False),
        ("1.200,5", None, "1200.5", False),
        ("1200 tấn", "tấn", "1200", False),
        ("1200 tan", "tấn", "1200", False),
        ("khoảng 300", None, "300", True),
        ("tam 300 ho", None, "300", True),
        ("2,5 ha", "ha", "2.5", False),
        ("500 kg", "tấn", "0.5", False),
        ("3 tạ", "tấn", "0.3", False),
        ("5000 m2", "ha", "0.5", False),
        ("1,2 nghìn", None, "1200", False),
        ("0", None, "0", False),
        ("0.5", None, "0.5", False),
        ("1.000.000", None, "1000000", False),
        ("5 lạng", "kg", "0.5", False),
        ("500 m vuông", "ha", "0.05", False),
        ("1 tỉ", None, "1000000000", False),
        ("1tr2", None, "1200000", True),  # spoken forms are shown back for «Đúng»
        ("1 tấn rưỡi", "tấn", "1.5", True),
        ("2 nghìn rưỡi", None, "2500", True),
        ("5 nghìn triệu tấn", "tấn", "5000000000", False),
        ("1.200 tấn rơm", "tấn", "1200", False),
    ],
)
def test_vietnamese_numbers(typed: str, unit: str | None, value: str, approx: bool) -> None:
    parsed = parse_number(typed, unit=unit)
    assert parsed.value == Decimal(value)
    assert parsed.approximate is approx


@pytest.mark.parametrize(
    ("typed", "code", "kwargs"),
    [
        ("", "empty", {}),
        ("nhiều lắm", "not_a_number", {}),
        ("-5", "negative", {}),
        ("từ 100 đến 200", "several_numbers", {}),
        ("1,5", "not_whole", {"whole": True}),
        ("12 ha", "wrong_unit", {"unit": "tấn"}),
        ("500 mét", "wrong_unit", {"unit": "ha"}),
        ("5 hộ", "wrong_unit", {"unit": "tấn"}),
        ("5 con", "wrong_unit", {"unit": "hộ"}),
        (".5", "malformed", {}),
        (",5", "malformed", {}),
        ("\u20105", "negative", {}),  # hyphen
        ("\u20115", "negative", {}),  # non-breaking hyphen
        ("\u207b5", "negative", {}),  # superscript minus
        ("1 tỷ tỷ tỷ", "exponent", {}),
        ("5 sào", "regional_unit", {"unit": "ha"}),
    ],
)
def test_unclear_answers_say_why(typed: str, code: str, kwargs: dict) -> None:
    with pytest.raises(NumberError) as err:
        parse_number(typed, **kwargs)
    assert err.value.code == code


def test_a_wrong_unit_is_named_as_the_person_wrote_it() -> None:
    with pytest.raises(NumberError) as err:
        parse_number("2 tạ", unit="lít")
    assert err.value.params == {"typed": "tạ", "unit": "lít"}


def test_format_in_vietnamese_style() -> None:
    assert format_number(Decimal("1200")) == "1.200"
    assert format_number(Decimal("1200.5")) == "1.200,5"
    assert format_number(3) == "3"
