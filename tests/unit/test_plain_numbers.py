"""The plain-number shortcut of ``convert_text_column`` gives what the general steps give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churn_core.reading import cells
from churn_core.reading.numbers import TEXT_DTYPE, plain_number_column
from churn_core.reading.table import DEFAULT_NA_TOKENS

CELLS = st.one_of(
    st.sampled_from(["", "0", "12", "-0.5", "+3", ".5", "5.", "1e5", "1E-3", "2e400", "nan",
                     "NaN", "inf", "-inf", "Infinity", " 7", "7 ", "1,234", "12%", "$3",
                     "NA", "-", "0x10", "1_000", "1e", "e5", "١٢", "１２", "(4)", "1.2.3"]),
    st.text(alphabet="0123456789.+-eE, ", max_size=6),
)


def _both(values: list[str | None], tokens=DEFAULT_NA_TOKENS):
    series = pd.Series(values, dtype=TEXT_DTYPE)
    fast = cells.convert_text_column("c", series, na_tokens=tokens, convert_numbers=True,
                                     text_reason=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cells, "plain_number_column", lambda text, na_tokens: None)
        slow = cells.convert_text_column("c", series, na_tokens=tokens, convert_numbers=True,
                                         text_reason=None)
    return fast, slow


def _same(fast, slow) -> None:
    assert fast.values.dtype == slow.values.dtype
    pd.testing.assert_series_equal(fast.values, slow.values)
    assert [p.code for p in fast.problems] == [p.code for p in slow.problems]
    assert [p.message for p in fast.problems] == [p.message for p in slow.problems]
    assert fast.trimmed == slow.trimmed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), CELLS), min_size=1, max_size=12))
def test_any_column_converts_as_the_general_steps_convert_it(values):
    _same(*_both(values))


@pytest.mark.parametrize("values", [
    ["1", "2.5", "", None, "-3e2"],
    ["0001", "12", "7"],
    ["1", "nan", "2"],
    ["1", "1e400"],
    ["", ""],
])
def test_examples(values):
    _same(*_both(values))


def test_plain_columns_take_the_shortcut_and_others_do_not():
    plain = plain_number_column(pd.Series(["1", "", "-2.5e3", None], dtype=TEXT_DTYPE),
                                DEFAULT_NA_TOKENS)
    assert plain is not None
    np.testing.assert_array_equal(plain.to_numpy(), [1.0, np.nan, -2500.0, np.nan])
    for odd in (["1", " 2"], ["1", "n/a"], ["1", "inf"], ["", None]):
        assert plain_number_column(pd.Series(odd, dtype=TEXT_DTYPE), DEFAULT_NA_TOKENS) is None
    # a token that is a number (-1 meaning missing) or no empty-cell token: the general steps
    assert plain_number_column(pd.Series(["1", "-1"], dtype=TEXT_DTYPE), ("", "-1")) is None
    assert plain_number_column(pd.Series(["1", "2"], dtype=TEXT_DTYPE), ("NA",)) is None
    tokens = ("", "-1")
    _same(*_both(["1", "-1", ""], tokens))
