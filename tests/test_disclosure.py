"""Small-count protection, including the subtraction attack on published totals."""

from __future__ import annotations

import pandas as pd
import pytest

from kohorte.read import disclosure
from kohorte.read.disclosure import is_small, protect_curve, protect_rate, protect_table

TABLE = pd.DataFrame(
    {"w": [12, 1, 7], "m": [9, 8, 0], "d": [0, 0, 4]},
    index=["Coach A", "Coach B", "Coach C"],
)


def test_primary_suppression_hides_counts_below_the_threshold():
    hidden = protect_table(TABLE, row_totals=False, column_totals=False).hidden
    assert hidden.to_numpy().sum() == 1
    assert hidden.loc["Coach B", "w"]


def _recoverable(table: pd.DataFrame, hidden: pd.DataFrame) -> list[tuple]:
    """Cells an attacker recovers exactly from the published cells and row/column totals."""
    found = []
    for axis_values, axis_hidden in ((table, hidden), (table.T, hidden.T)):
        for label in axis_values.index:
            secret = [c for c in axis_values.columns if axis_hidden.loc[label, c]]
            if len(secret) == 1:
                found.append((label, secret[0]))
    return found


def test_secondary_suppression_defeats_subtraction_from_totals():
    result = protect_table(TABLE)
    # row total of Coach B is 9: with only "w" hidden, 9 - 8 - 0 = 1 would give it away
    assert _recoverable(TABLE, result.hidden) == []
    assert result.hidden.loc["Coach B", "w"]
    # minimal here: a rectangle of four cells closes both rows and both columns
    assert result.hidden.to_numpy().sum() == 4
    assert result.hidden.loc["Coach A"].sum() == 0


@pytest.mark.parametrize("seed", range(25))
def test_no_hidden_cell_is_recoverable_in_random_tables(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.integers(0, 8, size=(rng.integers(2, 6), rng.integers(2, 6))))
    result = protect_table(table, threshold=3)
    assert _recoverable(table, result.hidden) == []
    small = (table > 0) & (table < 3)
    assert (result.hidden | ~small).all().all()  # every small cell is hidden


def test_display_replaces_hidden_cells_with_the_label():
    shown = protect_table(TABLE, row_totals=False, column_totals=False).display("<3")
    assert shown.loc["Coach B", "w"] == "<3"
    assert shown.loc["Coach A", "w"] == 12


@pytest.mark.parametrize("threshold", [3, 5])
def test_threshold_is_configurable(threshold):
    counts = pd.DataFrame({"n": [1, 2, 3, 4, 5]})
    hidden = protect_table(counts, threshold, row_totals=False).hidden["n"].tolist()
    assert hidden[: threshold - 1] == [True] * (threshold - 1)
    assert not any(hidden[threshold - 1 :]) or threshold == 3


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 10, 0.5),
        (0, 10, 0.0),  # nobody: reveals nobody
        (1, 10, None),  # one person: rate x denominator would reveal the count
        (2, 2, None),  # denominator below the threshold
        (5, None, None),
    ],
)
def test_rates(numerator, denominator, expected):
    assert protect_rate(numerator, denominator) == expected


def test_zero_is_not_small():
    assert [is_small(v) for v in (0, 1, 2, 3, None)] == [False, True, True, False, False]


def test_single_column_table_with_published_total():
    # a one-column breakdown with its total: hiding one cell needs a second in the column
    counts = pd.DataFrame({"n": [10, 1, 6, 4]}, index=list("abcd"))
    hidden = protect_table(counts).hidden["n"]
    assert hidden.sum() == 2 and hidden["b"] and hidden["d"]


def test_curve_ends_where_fewer_than_the_threshold_are_at_risk():
    curve = pd.DataFrame(
        {
            "kohorte": ["a"] * 4 + ["b"] * 2,
            "tage": [10, 20, 30, 40, 5, 9],
            "unter_risiko": [6, 4, 3, 2, 2, 1],
            "ereignisse": [1, 1, 0, 1, 1, 1],
            "zensiert": [1, 0, 1, 1, 0, 0],
            "anteil_integriert": [1 / 6, 0.375, 0.375, 0.6875, 0.5, 1.0],
        }
    )
    shown = protect_curve(curve, threshold=3)
    # cohort a stops before the step among two; cohort b (two people) is not drawn at all
    assert shown["tage"].tolist() == [10, 20, 30]
    assert list(shown.columns) == ["kohorte", "tage", "anteil_integriert"]


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_missing_values_are_neither_small_nor_a_rate(missing):
    assert not is_small(missing)
    assert protect_rate(missing, 10) is None and protect_rate(5, missing) is None


def test_funnel_steps_hide_small_drops():
    """531 -> 529 reveals 2 who dropped out; the next step compares with 531 again."""
    assert disclosure.protect_steps([531, 529, 400, 399, 2], 3) == [
        False, True, False, True, True,
    ]  # fmt: skip
    assert disclosure.protect_steps([10, 10, 0], 3) == [False, False, False]


def test_a_grid_is_mostly_withheld_from_four_in_five_cells():
    from kohorte.read.disclosure import mostly_withheld

    assert mostly_withheld([None, None, None, None, 0.5])
    assert not mostly_withheld([None, None, None, 0.2, 0.5])
    assert not mostly_withheld([])
