"""Rates by calendar month as the Überblick shows them: each month's rate with its counts
("12 von 40") where they may be shown, and a rolling rate over three months that smooths
the jumpy single months.

The counts pass ``disclosure.protect_monthly`` like the monthly entries and exits beside
the 12-month cards; the complement (denominator - numerator) is protected with them. The
rolling rate is a share of the three months' summed counts and is protected as a share,
like the 12-month cards' rates; its sums are never shown (two overlapping windows' sums
would give a single month's count by subtraction).
"""

from __future__ import annotations

import pandas as pd

from kohorte.read import disclosure, fmt

ROLLING_MONTHS = 3
COUNTS = ["zaehler", "nenner", "rest"]


def rates(
    frame: pd.DataFrame,
    published: pd.Series,
    threshold: int,
    whole: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``frame``: one rate's rows by ``monat`` (index) with ``zaehler`` and ``nenner`` and
    last year's ``vorjahr_zaehler`` and ``vorjahr_nenner``; ``published``: the months whose
    total a card publishes; ``whole``: the same for the whole programme when ``frame`` is
    a filtered selection. Returns ``quote``, ``vorjahr_quote``, ``zaehler_gezeigt``,
    ``nenner_gezeigt`` and ``quote_gleitend`` (None or NA where they must not be shown)."""
    counts = frame.assign(rest=frame["nenner"] - frame["zaehler"])
    if whole is not None:
        whole = whole.assign(rest=whole["nenner"] - whole["zaehler"])
    shown = disclosure.protect_monthly(counts, COUNTS, published, threshold, whole)
    out = pd.DataFrame(index=frame.index)
    for prefix in ("", "vorjahr_"):
        out[prefix + "quote"] = [
            disclosure.protect_share(n, d, threshold)
            for n, d in zip(frame[prefix + "zaehler"], frame[prefix + "nenner"], strict=True)
        ]
    visible = shown[COUNTS].notna().all(axis=1) & out["quote"].notna()
    out["zaehler_gezeigt"] = shown["zaehler"].where(visible)
    out["nenner_gezeigt"] = shown["nenner"].where(visible)
    out["quote_gleitend"] = rolling(frame["zaehler"], frame["nenner"], threshold)
    return out


def rolling(numerators: pd.Series, denominators: pd.Series, threshold: int) -> pd.Series:
    """The rate over a month and the ``ROLLING_MONTHS - 1`` calendar months before it:
    summed numerators over summed denominators, protected as a share
    (``disclosure.protect_share``); NA unless every one of those months has its row. The
    index holds the months (first of the month)."""
    months = pd.DatetimeIndex(pd.to_datetime(numerators.index))
    counts = pd.DataFrame(
        {
            "n": numerators.astype("float64").to_numpy(),
            "d": denominators.astype("float64").to_numpy(),
        },
        index=months,
    )
    if len(counts):  # a month missing from the rows is a month without counts
        counts = counts.reindex(pd.date_range(months.min(), months.max(), freq="MS"))
    sums = counts.rolling(ROLLING_MONTHS, min_periods=ROLLING_MONTHS).sum().reindex(months)
    pairs = zip(sums["n"], sums["d"], strict=True)
    rates = [disclosure.protect_share(n, d, threshold) for n, d in pairs]
    return pd.Series(rates, index=numerators.index, dtype="Float64")


SERIES = ("this_year", "rolling", "previous_year")


def series(shown: pd.DataFrame, labels: dict[str, str], lang: str = "de") -> pd.DataFrame:
    """``rates``' result for one KPI (a ``monat`` column beside it) as the chart's long
    table: one row per month and series, with ``reihe`` (``labels`` of ``SERIES``),
    ``quote``, ``stand`` (``labels["final"]`` or ``["provisional"]``) and ``anzahl`` ("12
    von 40" for this year's shown counts; ``labels["withheld"]`` where the rate is shown
    but its counts are protected; else "–"). A month without a rate (withheld, or no
    case) has ``quote`` NA, so the chart's line breaks there instead of bridging it."""
    rows = []
    for row in shown.itertuples():
        counts = (
            labels.get("withheld", "–")
            if pd.isna(row.zaehler_gezeigt)
            else f"{fmt.number(row.zaehler_gezeigt, lang)} {labels['of']} "
            f"{fmt.number(row.nenner_gezeigt, lang)}"
        )
        for name, rate, provisional, told in (
            ("this_year", row.quote, row.vorlaeufig, counts),
            ("rolling", row.quote_gleitend, row.vorlaeufig, "–"),
            ("previous_year", row.vorjahr_quote, row.vorjahr_vorlaeufig, "–"),
        ):
            missing = rate is None or pd.isna(rate)
            provisional = False if pd.isna(provisional) else bool(provisional)
            rows.append(
                {
                    "monat": row.monat,
                    "reihe": labels[name],
                    "quote": None if missing else float(rate),
                    "stand": labels["provisional" if provisional else "final"],
                    "anzahl": "–" if missing else told,
                }
            )
    return pd.DataFrame(rows, columns=["monat", "reihe", "quote", "stand", "anzahl"])
