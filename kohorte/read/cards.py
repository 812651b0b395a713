"""KPIs as they may leave the read layer: small counts suppressed, empty selections
marked, the year-earlier baseline only where it may be compared. Every consumer (the
dashboard's cards and exports, ``kohorte kpis``) shows what ``protect_kpis`` returns, so
no view can forget a rule.

Beyond ``kohorte.read.disclosure``'s cell rules, a card is hidden when what it shows together
with other figures would reveal a small count by subtraction:

- a rate whose complement (denominator − numerator, e.g. the one exit without an
  integration in "3 von 4") is a small count;
- a filtered figure whose complement in the whole programme (whole − selection) is small;
- a filtered figure that secondary suppression hides among its siblings: the same
  selection with the filtered dimension set to each of its values (``w``, ``m``, ``d``).
  With 29 active in all and ``d`` = 1, showing ``w`` and ``m`` would leave ``d``; the
  partition is protected as one table row whose total is published, so every view of it
  hides the same cells.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import pandas as pd

from kohorte.define import periods
from kohorte.define.dimensions import Filters
from kohorte.define.kpis import BY_ID, Kpi
from kohorte.define.periods import Period
from kohorte.read.disclosure import DEFAULT_THRESHOLD, is_small, protect_table

# hidden: a small count itself (shown as "<3"); protected: a larger figure withheld so
# that no small count elsewhere can be recovered from it (shown as "*", BA Statistik's sign)
SHOWN, HIDDEN, PROTECTED = "shown", "hidden", "protected"
EMPTY, NOT_REACHED = "empty", "not_reached"
SUPPRESSED = (HIDDEN, PROTECTED)


@dataclass(frozen=True)
class Card:
    """One KPI for display: ``value`` is None unless ``state`` is ``shown``; numerator and
    denominator are given only where they may be shown beside the value."""

    kpi: Kpi
    state: str
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: float | None
    window_start: dt.date | None
    window_end: dt.date | None
    period: Period = periods.DEFAULT  # the span shown, against the same a year earlier

    def label(self, lang: str) -> str:
        """The KPI's name for the span shown ("Eintritte (Programmjahr)")."""
        return self.kpi.label(lang, self.period)

    def text(self, part: str, lang: str) -> str:
        """The KPI's numerator, denominator, window or note for the span shown."""
        return self.kpi.text(part, lang, self.period)

    @property
    def change(self) -> float | None:
        """Value minus the year-earlier value, when both may be shown."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _day(value: object) -> dt.date | None:
    """A date, from a DuckDB date as pandas gives it (a Timestamp) or as it is."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value  # type: ignore[return-value]


def _number(value: object) -> float | None:
    """A float, or None for NULL, NaN and NA."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _small_difference(a: float | None, b: float | None, threshold: int) -> bool:
    return a is not None and b is not None and is_small(a - b, threshold)


def _state(
    kpi: Kpi,
    numerator: float | None,
    denominator: float | None,
    whole: tuple[float | None, float | None] | None,
    threshold: int,
) -> tuple[str, float | None]:
    """(state, value) of one KPI for one period."""
    if kpi.unit == "days":
        if not denominator:
            return EMPTY, None
        if is_small(denominator, threshold):
            return HIDDEN, None
        return (NOT_REACHED, None) if numerator is None else (SHOWN, numerator)
    counts = [numerator] if kpi.unit == "count" else [numerator, denominator]
    if kpi.unit != "count" and not denominator:
        return EMPTY, None
    if any(is_small(c, threshold) for c in counts):  # for a rate or ratio: the denominator too
        return HIDDEN, None
    if kpi.unit == "rate" and _small_difference(denominator, numerator, threshold):
        return PROTECTED, None
    if whole is not None:
        for part, total in zip(counts, whole, strict=False):
            if _small_difference(total, part, threshold):
                return PROTECTED, None
    if kpi.unit == "count":
        return SHOWN, numerator
    return SHOWN, numerator / denominator


def _hidden_among_siblings(
    kpi: str, baseline: bool, siblings: list[list[dict]], current: int, threshold: int
) -> bool:
    """Is the current value (or, ``baseline``, its year-earlier value) hidden when the
    partition is protected as one row of a table with its total published (numerator and
    denominator each)?"""
    prefix = "vorjahr_" if baseline else ""
    for part in ("zaehler", "nenner"):
        vector = []
        for rows in siblings:
            found = next((r for r in rows if r["kennzahl"] == kpi), {})
            vector.append(_number(found.get(prefix + part)) or 0.0)
        if len(vector) < 2:
            continue
        hidden = protect_table(pd.DataFrame([vector]), threshold, column_totals=False).hidden
        if bool(hidden.iloc[0, current]):
            return True
    return False


def protect_kpis(
    rows: Iterable[dict],
    threshold: int = DEFAULT_THRESHOLD,
    whole: Iterable[dict] | None = None,
    selection_size: int | None = None,
    partitions: Iterable[tuple[list[list[dict]], int]] = (),
) -> list[Card]:
    """Cards for the rows of query ``ueberblick__kennzahlen`` (``kennzahl``, ``zaehler``,
    ``nenner``, ``vorjahr_*``, ``fenster_*``). ``whole``: the same rows for the whole
    programme when ``rows`` are a selection; ``selection_size``: its participations (0:
    every card is empty); ``partitions``: per filtered dimension, the rows of every value
    of it (siblings) and the position of this selection among them."""
    totals = {r["kennzahl"]: r for r in whole} if whole is not None else {}
    partitions = list(partitions)
    cards = []
    for row in rows:
        kpi = BY_ID[row["kennzahl"]]
        numerator, denominator = _number(row.get("zaehler")), _number(row.get("nenner"))
        total = totals.get(kpi.id)
        state, value = _state(
            kpi,
            numerator,
            denominator,
            None if total is None else (_number(total["zaehler"]), _number(total["nenner"])),
            threshold,
        )
        if (
            state == SHOWN
            and kpi.unit != "days"
            and any(
                _hidden_among_siblings(kpi.id, False, siblings, current, threshold)
                for siblings, current in partitions
            )
        ):
            state, value = PROTECTED, None
        if selection_size == 0:
            state, value = EMPTY, None
        previous = None
        if state == SHOWN and _number(row.get("vorjahr_vollstaendig")) == 1:
            before_state, before = _state(
                kpi,
                _number(row.get("vorjahr_zaehler")),
                _number(row.get("vorjahr_nenner")),
                None
                if total is None
                else (_number(total["vorjahr_zaehler"]), _number(total["vorjahr_nenner"])),
                threshold,
            )
            previous = before if before_state == SHOWN else None
            if previous is not None and any(
                _hidden_among_siblings(kpi.id, True, siblings, current, threshold)
                for siblings, current in partitions
            ):
                previous = None
        # "x von y" under a rate; the participations observed under a median (reached or not)
        detail = (state == SHOWN and kpi.unit == "rate") or (
            state in (SHOWN, NOT_REACHED) and kpi.unit == "days"
        )
        cards.append(
            Card(
                kpi,
                state,
                value,
                numerator if detail and kpi.unit == "rate" else None,
                denominator if detail else None,
                previous,
                _day(row.get("fenster_von")),
                _day(row.get("fenster_bis")),
                periods.BY_PERIODE.get(row.get("periode"), periods.DEFAULT),
            )
        )
    return cards


def for_selection(
    fetch: Callable[[Filters], list[dict]],
    filters: Filters,
    choices: dict[str, list],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Card]:
    """The cards of a selection, with everything ``protect_kpis`` needs fetched through
    ``fetch`` (rows of ``ueberblick__kennzahlen`` for a selection): the whole programme and,
    for each filtered dimension with few values, its siblings. ``choices`` gives the
    values of site and coach (empty: not compared, e.g. for a coach, whose own caseload is
    compared with no colleague's figures); gender and benefit receipt have fixed values.
    Cohorts (dozens of months and weeks) and date ranges rely on the complement rule."""
    rows = fetch(filters)
    whole = fetch(Filters()) if filters != Filters() else None
    values = {"geschlecht": ["w", "m", "d"], "lzb": [True, False], **choices}
    partitions = []
    for name, options in values.items():
        current = getattr(filters, name)
        if current is None or current not in options:
            continue
        siblings = [fetch(replace(filters, **{name: value})) for value in options]
        partitions.append((siblings, options.index(current)))
    size = int(rows[0]["auswahl_teilnahmen"]) if rows else 0
    return protect_kpis(rows, threshold, whole, size, partitions)
