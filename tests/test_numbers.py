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
    ],
)
def test_unclear_answers_say_why(typed: str, code: str, kwargs: dict) -> None:
    with pytest.raises(NumberError) as err:
        parse_number(typed, **kwargs)
    assert err.value.code == code


def test_format_in_vietnamese_style() -> None:
    assert format_number(Decimal("1200")) == "1.200"
    assert format_number(Decimal("1200.5")) == "1.200,5"
    assert format_number(3) == "3"
