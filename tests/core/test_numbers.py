"""The one strict integer parser: ids, quantities and fen are whole numbers written with ASCII
digits. ``1.5`` is not truncated to 1, ``"１"`` (full-width) is not read as 1, ``true`` is not 1."""

import pytest

from core.errors import InvalidInput
from core.money import parse_yuan
from core.numbers import parse_int, require_int

NOT_INTEGERS = [
    1.5,
    1.0,  # a float is refused even when whole: JSON clients send 1 for one
    "1.5",
    "1.0",
    "１",  # full-width
    "１２",
    "١٢",  # Arabic-Indic
    "²",
    " 1",
    "1 ",
    "+1",
    "1e3",
    "0x10",
    "1_000",
    "",
    True,
    False,
    None,
    [1],
    {"n": 1},
    "9" * 50,
]


@pytest.mark.parametrize("value", [0, 7, -3, "0", "42", "-5", "007", 2**63 - 1, str(2**63 - 1)])
def test_it_reads_whole_numbers_given_as_ints_or_ascii_digits(value):
    assert parse_int(value) == int(value)


@pytest.mark.parametrize("value", NOT_INTEGERS, ids=repr)
def test_it_refuses_anything_else_with_a_code(value):
    with pytest.raises(InvalidInput) as refused:
        parse_int(value)
    assert refused.value.code == "not_an_integer"
    assert "整数" in refused.value.message


def test_bounds_are_checked_with_their_own_code():
    assert parse_int("5", min_value=1, max_value=5) == 5
    for value in (0, "6"):
        with pytest.raises(InvalidInput) as refused:
            parse_int(value, min_value=1, max_value=5)
        assert refused.value.code == "out_of_range"
        assert "1" in refused.value.message and "5" in refused.value.message


def test_a_service_takes_only_a_real_int_and_names_its_own_refusal():
    assert require_int(3, min_value=1, max_value=9, error=InvalidInput("invalid_quantity", "数量不对")) == 3
    for value in ("3", 3.0, True, 0, 10, None):
        with pytest.raises(InvalidInput) as refused:
            require_int(value, min_value=1, max_value=9, error=InvalidInput("invalid_quantity", "数量不对"))
        assert (refused.value.code, refused.value.message) == ("invalid_quantity", "数量不对")


@pytest.mark.parametrize("text", ["１２", "１２.５", "¥１０"])
def test_yuan_amounts_in_full_width_digits_are_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse_yuan(text)
    assert refused.value.code == "invalid_amount"
