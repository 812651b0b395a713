"""Rates by month on the Überblick: counts in the tooltip where they may be shown, and a
rolling 3-month rate made from shown counts only (kohorte.read.monthly)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kohorte.read import monthly
from kohorte.read.access import Principal

D = dt.date


def _months(*numbers: tuple[int, int]) -> pd.DataFrame:
    index = [m.date() for m in pd.date_range("2025-01-01", periods=len(numbers), freq="MS")]
    frame = pd.DataFrame(numbers, columns=["zaehler", "nenner"], index=index, dtype="float64")
    frame["vorjahr_zaehler"] = frame["zaehler"]
    frame["vorjahr_nenner"] = frame["nenner"]
    return frame


def test_the_rolling_rate_sums_three_calendar_months():
    """Jan-Aug without May, threshold 3. Mar (1 + 2 + 3) / 30 = 20 %, Apr 30 %; Jun, Jul
    need May: none; Aug (5 + 6 + 7) / 30 = 60 %. Apr's months are each too small to show
    (2 or 3 of 4), their sum is not."""
    months = [D(2026, m, 1) for m in (1, 2, 3, 4, 6, 7, 8)]
    numerators = pd.Series([1, 2, 3, 4, 5, 6, 7], index=months, dtype="Float64")
    denominators = pd.Series([10, 10, 10, 10, 10, 10, 10], index=months, dtype="Float64")
    rolling = monthly.rolling(numerators, denominators, threshold=3)
    assert rolling.isna().tolist() == [True, True, False, False, True, True, False]
    assert rolling.dropna().round(6).tolist() == [0.2, 0.3, 0.6]
    small = pd.Series([2, 1, 2], index=months[:3], dtype="Float64")
    assert monthly.rolling(small, pd.Series([4, 2, 4], index=months[:3]), 3).iloc[-1] == 0.5
    # 9 of 10 over three months: the one without is a small count, so no rate
    nine = pd.Series([3, 3, 3], index=months[:3], dtype="Float64")
    assert pd.isna(monthly.rolling(nine, pd.Series([3, 3, 4], index=months[:3]), 3).iloc[-1])


def test_counts_are_shown_only_where_the_rate_and_its_complement_may_be():
    """Threshold 3. Jan 4 of 10; Feb 5 of 6 (1 without: the complement is small, so Feb's
    rate and counts are hidden); Mar 3 of 9."""
    frame = _months((4, 10), (5, 6), (3, 9))
    published = pd.Series(False, index=frame.index)
    shown = monthly.rates(frame, published, threshold=3)
    assert shown["quote"].iloc[0] == 0.4 and pd.isna(shown["quote"].iloc[1])
    hidden = shown["zaehler_gezeigt"].isna()
    # Feb, and by secondary suppression one more month: the months' sum would give Feb
    assert hidden.iloc[1] and hidden.sum() == 2
    assert shown["quote_gleitend"].round(6).tolist()[2] == round(12 / 25, 6)


@settings(deadline=None)  # protect_monthly is a loop in pandas: slow on a busy machine
@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 12)).map(lambda p: (min(p), max(p))),
        min_size=1,
        max_size=14,
    )
)
def test_every_shown_figure_passes_the_protection(pairs):
    """Tooltip counts are neither small nor leave a small complement; a rolling rate is
    the quotient of its three months' sums, which are large enough to show as a rate."""
    frame = _months(*pairs)
    shown = monthly.rates(frame, pd.Series(True, index=frame.index), threshold=3)
    n, d = shown["zaehler_gezeigt"], shown["nenner_gezeigt"]
    assert not ((n > 0) & (n < 3)).any() and not ((d - n > 0) & (d - n < 3)).any()
    for i, rate in enumerate(shown["quote_gleitend"]):
        if pd.isna(rate):
            continue
        window = frame.iloc[i - 2 : i + 1]
        assert i >= 2
        top, bottom = window["zaehler"].sum(), window["nenner"].sum()
        assert bottom >= 3 and not 0 < top < 3 and not 0 < bottom - top < 3
        assert rate == top / bottom


def test_the_rates_chart_has_counts_in_the_tooltip_and_a_rolling_line(sample_settings, monkeypatch):
    """The committed sample (the KPI fixture is too small: every month's rate is hidden)."""
    from conftest import chart_frames, run_app

    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    at = run_app(Principal("tl", "teamleitung"))
    assert not at.exception and not at.error
    frames = chart_frames(at)
    [rates] = [f for f in frames if "reihe" in f and "quote" in f]
    assert set(rates["reihe"]) <= {"Berichtsjahr", "Schnitt über 3 Monate", "Vorjahr"}
    assert "Schnitt über 3 Monate" in set(rates["reihe"])
    this_year = rates[rates["reihe"] == "Berichtsjahr"]
    withheld = "nicht angezeigt (Schutz kleiner Fallzahlen)"
    pattern = r"\d[\d.]* von \d[\d.]*|–|" + re.escape(withheld)
    assert all(re.fullmatch(pattern, a) for a in this_year["anzahl"])
    # "–" only where the month has no rate (a gap in the line), never under a shown rate
    assert (this_year["quote"].isna() == (this_year["anzahl"] == "–")).all()
    assert (this_year["anzahl"] != "–").any()
    spec = next(c.proto.spec for c in at.get("vega_lite_chart") if "Schnitt" in c.proto.spec)
    assert '"title": "Anzahl"' in spec or '"title":"Anzahl"' in spec


def test_the_chart_rows_name_each_series_and_tell_the_counts():
    labels = {
        "this_year": "Berichtsjahr", "rolling": "Schnitt über 3 Monate",
        "previous_year": "Vorjahr", "final": "endgültig", "provisional": "vorläufig",
        "of": "von",
    }  # fmt: skip
    shown = pd.DataFrame(
        {
            "monat": [D(2026, 3, 1), D(2026, 4, 1)],
            "vorlaeufig": [False, True],
            "vorjahr_vorlaeufig": [False, False],
            "quote": [0.25, None],
            "vorjahr_quote": [0.5, 0.4],
            "zaehler_gezeigt": pd.array([1250, pd.NA], dtype="Float64"),
            "nenner_gezeigt": pd.array([5000, pd.NA], dtype="Float64"),
            "quote_gleitend": pd.array([0.3, 0.35], dtype="Float64"),
        }
    )
    rows = monthly.series(shown, labels).to_dict("records")
    rates = [None if pd.isna(r["quote"]) else r["quote"] for r in rows]
    assert [(r["reihe"], q, r["stand"], r["anzahl"]) for r, q in zip(rows, rates, strict=True)] == [
        ("Berichtsjahr", 0.25, "endgültig", "1.250 von 5.000"),
        ("Schnitt über 3 Monate", 0.3, "endgültig", "–"),
        ("Vorjahr", 0.5, "endgültig", "–"),
        # April: no rate of its own, so the line breaks (a gap, not a bridge to May)
        ("Berichtsjahr", None, "vorläufig", "–"),
        ("Schnitt über 3 Monate", 0.35, "vorläufig", "–"),
        ("Vorjahr", 0.4, "endgültig", "–"),
    ]
    # a rate shown with its counts withheld says why in the tooltip
    withheld = shown.assign(quote=[0.25, 1.0])
    rows = monthly.series(withheld, {**labels, "withheld": "geschützt"}).to_dict("records")
    assert rows[3]["quote"] == 1.0 and rows[3]["anzahl"] == "geschützt"
