"""Small-count protection for every aggregate Kohorte shows or exports.

Counts from 1 to ``threshold - 1`` are suppressed (primary suppression). Where a row or a
column of a table is published with its total, one hidden cell could be recovered by
subtraction; so every such line that hides one cell hides a second one (secondary
suppression), preferring cells that close two such lines at once, repeated until no line
has exactly one hidden cell. Zeros are shown unless one is needed as a second cell: they
reveal nobody. A rate is not shown when its denominator is below the threshold, nor when
its numerator is hidden (rate x denominator = numerator).

This follows BA Statistik's practice (at least 3 cases per cell, secondary suppression);
the threshold is configurable (health-data platforms use 5). There is no maintained Python
library for cell suppression (tau-Argus and sdcMicro are Java and R), hence this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 3


@dataclass(frozen=True)
class Protected:
    """A protected table: the original values and which cells must not be shown."""

    values: pd.DataFrame
    hidden: pd.DataFrame  # same shape, True where a cell is suppressed

    def display(self, label: str) -> pd.DataFrame:
        """Values as objects with suppressed cells replaced by ``label`` (e.g. "<3")."""
        return self.values.astype(object).mask(self.hidden, label)


def is_small(count: float | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for a count that must not be shown (1 to threshold - 1)."""
    return not pd.isna(count) and 0 < count < threshold


def protect_table(
    counts: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    seed: pd.DataFrame | None = None,
) -> Protected:
    """Primary and secondary suppression of a table of counts whose row and/or column
    totals are published (pass False for margins that are not shown anywhere); ``seed``
    marks further cells that must be hidden (e.g. for their complement elsewhere)."""
    values = counts.astype(float)
    grid = values.to_numpy(copy=True)
    hidden = (grid > 0) & (grid < threshold)
    if seed is not None:
        hidden |= seed.to_numpy(dtype=bool)
    changed = True
    while changed:
        changed = False
        if row_totals:
            changed |= _second_cell(grid, hidden, crossing=column_totals)
        if column_totals:
            changed |= _second_cell(grid.T, hidden.T, crossing=row_totals)
    return Protected(counts, pd.DataFrame(hidden, index=counts.index, columns=counts.columns))


def _second_cell(grid: np.ndarray, hidden: np.ndarray, crossing: bool) -> bool:
    """In each row with exactly one hidden cell, hide one more. Preferred: a cell whose
    column also has exactly one hidden cell (one choice closes two gaps; only when that
    column's total is published, ``crossing``), then the smallest non-zero cell, then a
    zero. Returns whether anything changed."""
    changed = False
    for row in range(grid.shape[0]):
        if grid.shape[1] < 2 or hidden[row].sum() != 1:
            continue
        candidates = [c for c in range(grid.shape[1]) if not hidden[row, c]]
        if not candidates:
            continue
        pick = min(
            candidates,
            key=lambda c: (
                not (crossing and hidden[:, c].sum() == 1),
                grid[row, c] == 0,
                grid[row, c],
                c,
            ),
        )
        hidden[row, pick] = True
        changed = True
    return changed


def protect_steps(counts: list[float], threshold: int = DEFAULT_THRESHOLD) -> list[bool]:
    """Which steps of a sequence shown together (a funnel) must be hidden: a small count,
    and a step that differs from the last shown one by a small count (531 -> 529 would
    reveal the 2 who dropped out). A hidden step is compared with no further step."""
    hidden, last = [], None
    for count in counts:
        hide = is_small(count, threshold) or (
            last is not None and is_small(abs(last - count), threshold)
        )
        hidden.append(hide)
        if not hide:
            last = count
    return hidden


def protect_share(
    numerator: float | None, denominator: float | None, threshold: int = DEFAULT_THRESHOLD
) -> float | None:
    """A share of counts, or None: as ``protect_rate``, and also when the complement
    (denominator - numerator, "3 of 4" reveals the one without) is a small count."""
    rate = protect_rate(numerator, denominator, threshold)
    if rate is None or is_small(denominator - numerator, threshold):
        return None
    return rate


def protect_monthly(
    frame: pd.DataFrame,
    columns: list[str],
    published: pd.Series,
    threshold: int = DEFAULT_THRESHOLD,
    whole: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Counts by month as they may be shown beside the 12-month cards: small counts and,
    where a filtered month's complement in the whole programme (``whole``, same index) is
    small, that month too; then secondary suppression within the months whose total a
    card publishes (``published`` True) and within the others. Hidden cells become NA."""
    counts = frame[columns].astype(float)
    seed = pd.DataFrame(False, index=counts.index, columns=columns)
    if whole is not None:
        difference = whole[columns].reindex(counts.index).astype(float) - counts
        seed = (difference > 0) & (difference < threshold)
    hidden = pd.DataFrame(False, index=counts.index, columns=columns)
    for group in (published, ~published):
        if group.any():
            part = protect_table(
                counts[group], threshold, row_totals=False, column_totals=True, seed=seed[group]
            )
            hidden.loc[group] = part.hidden
    shown = frame.copy()
    shown[columns] = counts.astype("Float64").mask(hidden)
    return shown


def protect_rate(
    numerator: float | None, denominator: float | None, threshold: int = DEFAULT_THRESHOLD
) -> float | None:
    """The rate, or None when it must not be shown (or is missing: None, NaN or NA)."""
    if pd.isna(numerator) or pd.isna(denominator) or denominator < threshold:
        return None
    if is_small(numerator, threshold):
        return None
    return numerator / denominator


MOSTLY_WITHHELD = 0.8  # from this share of withheld cells a grid tells nothing


def mostly_withheld(shares) -> bool:
    """True when at least ``MOSTLY_WITHHELD`` of a grid's shares must not be shown (None or
    NA): weekly cohorts then fall back to months, whose cells are larger."""
    missing = [pd.isna(s) for s in shares]
    return bool(missing) and sum(missing) >= MOSTLY_WITHHELD * len(missing)


def protect_curve(curve: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """A Kaplan-Meier curve (``kohorte``, ``tage``, ``unter_risiko``, ``anteil_integriert``)
    as it may be shown: each cohort's curve ends where fewer than ``threshold`` are still at
    risk (a step among two people would reveal one of them), and the counts behind it stay
    on the server."""
    shown = curve[curve["unter_risiko"] >= threshold]
    return shown[["kohorte", "tage", "anteil_integriert"]].reset_index(drop=True)
