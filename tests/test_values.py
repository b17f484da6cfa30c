"""The shared checks of single values: what they accept, and how they refuse."""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.values import bad_value, finite_number, one_of, whole_number


def test_accepted_values_come_back_as_plain_python():
    assert finite_number("x", np.float32(0.5), low=0.0, high=1.0) == 0.5
    assert type(finite_number("x", np.int64(3))) is float
    assert whole_number("n", np.int64(4), 1, 9) == 4 and type(whole_number("n", 4, 1, 9)) is int
    assert one_of("padding", "masked", ("masked", "naive")) == "masked"


@pytest.mark.parametrize(("check", "message"), [
    (lambda: finite_number("noise", float("nan"), low=0.0, high=1.0),
     "noise = nan is not allowed: must be a number from 0 to 1"),
    (lambda: finite_number("noise", 1.5, low=0.0, high=1.0),
     "noise = 1.5 is not allowed: must be a number from 0 to 1"),
    (lambda: finite_number("scale", 0.0, low=0.0, strict=True),
     "scale = 0.0 is not allowed: must be > 0"),
    (lambda: finite_number("x", True), "x = True is not allowed: must be a finite number"),
    (lambda: finite_number("x", "3"), "x = '3' is not allowed: must be a finite number"),
    (lambda: whole_number("hidden", 2.0, 2, 8),
     "hidden = 2.0 is not allowed: must be a whole number from 2 to 8"),
    (lambda: whole_number("hidden", True, 0, 8),
     "hidden = True is not allowed: must be a whole number from 0 to 8"),
    (lambda: one_of("padding", "zeros", ("masked", "naive")),
     "padding = 'zeros' is not allowed: must be one of masked, naive"),
])
def test_a_refusal_names_the_field_the_value_and_what_is_allowed(check, message):
    with pytest.raises(ValueError) as err:
        check()
    assert str(err.value) == message


def test_a_long_value_is_cut_short_in_the_message():
    text = str(bad_value("samples", list(range(100)), "too many"))
    assert text.startswith("samples = [0, 1, 2") and "..." in text and len(text) < 100
