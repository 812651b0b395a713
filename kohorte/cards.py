"""KPIs as they may leave the read layer: small counts suppressed, empty selections
marked, the year-earlier baseline only where it may be compared. Every consumer (the
dashboard's cards and exports, ``kohorte kpis``) shows what ``protect_kpis`` returns, so
no view can forget a rule.

Beyond ``kohorte.disclosure``'s cell rules, a card is hidden when what it shows together
with other figures would reveal a small count by subtraction:

- a rate whose complement (denominator − numerator, e.g. the one exit without an
  integration in "3 von 4") is a small count;
- a filtered figure whose complement in the whole programme (whole − selection, e.g.
  the one active person of gender ``d`` when ``w`` and ``m`` are shown) is small.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from kohorte.disclosure import DEFAULT_THRESHOLD, is_small
from kohorte.kpis import BY_ID, Kpi

SHOWN, HIDDEN, EMPTY, NOT_REACHED = "shown", "hidden", "empty", "not_reached"


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

    @property
    def change(self) -> float | None:
        """Value minus the year-earlier value, when both may be shown."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


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
    if any(is_small(c, threshold) for c in counts):
        return HIDDEN, None
    if kpi.unit == "rate" and _small_difference(denominator, numerator, threshold):
        return HIDDEN, None
    if kpi.unit in ("rate", "ratio") and 0 < (denominator or 0) < threshold:
        return HIDDEN, None
    if whole is not None:
        for part, total in zip(counts, whole, strict=False):
            if _small_difference(total, part, threshold):
                return HIDDEN, None
    if kpi.unit == "count":
        return SHOWN, numerator
    return SHOWN, numerator / denominator


def protect_kpis(
    rows: Iterable[dict],
    threshold: int = DEFAULT_THRESHOLD,
    whole: Iterable[dict] | None = None,
    selection_size: int | None = None,
) -> list[Card]:
    """Cards for the rows of query ``ueberblick__kennzahlen`` (``kennzahl``, ``zaehler``,
    ``nenner``, ``vorjahr_*``, ``fenster_*``). ``whole``: the same rows for the whole
    programme when ``rows`` are a selection; ``selection_size``: its participations (0:
    every card is empty)."""
    totals = {r["kennzahl"]: r for r in whole} if whole is not None else {}
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
        detail = state == SHOWN and kpi.unit in ("rate", "days")
        cards.append(
            Card(
                kpi,
                state,
                value,
                numerator if detail and kpi.unit == "rate" else None,
                denominator if detail else None,
                previous,
                row.get("fenster_von"),
                row.get("fenster_bis"),
            )
        )
    return cards
