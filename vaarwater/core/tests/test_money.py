"""Reading amounts: a number too long to calculate with is an unreadable amount, not a crash."""

import pytest

from vaarwater.core.money import parse_amount, parse_typed_amount


@pytest.mark.parametrize("raw", ["9" * 400, "1" * 30 + ",00", "1" * 27 + ".5"])
def test_a_number_with_more_digits_than_decimal_holds_is_not_a_number(raw):
    with pytest.raises(ValueError):
        parse_amount(raw)
    with pytest.raises(ValueError):
        parse_typed_amount(raw)


def test_long_but_readable_amounts_still_read():
    assert parse_amount("12345678901234567890.12", decimal_comma=False) == 1234567890123456789012
