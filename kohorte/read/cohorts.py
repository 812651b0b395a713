"""The cohort page's figures as they may be shown: the triangle's cells and the funnel's
steps, protected (``kohorte.read.disclosure``) and written out for the chart, with the
reason beside every withheld figure."""

from __future__ import annotations

import pandas as pd

from kohorte.read import disclosure, fmt

TRIANGLE_COLUMNS = ["kohorte", "name", "woche", "anteil", "text", "hinweis"]


def triangle(frame: pd.DataFrame, threshold: int, lang: str, withheld: str) -> pd.DataFrame:
    """Cells of ``integriert`` of ``teilnahmen`` by cohort and week: ``anteil`` (missing
    where withheld), its ``text`` ("35 %", "<3"), the reason ``withheld`` beside a withheld
    cell (``hinweis``), and the cohort's ``name`` ("Okt 2026", "KW 48/2026"). Only these
    leave the server: a chart's data is readable in the page."""
    shares = [
        disclosure.protect_rate(n, d, threshold)
        for n, d in zip(frame["integriert"], frame["teilnahmen"], strict=True)
    ]
    return pd.DataFrame(
        {
            "kohorte": frame["kohorte"].to_numpy(),
            "name": [fmt.cohort(k, lang) for k in frame["kohorte"]],
            "woche": frame["woche"].to_numpy(),
            "anteil": pd.array(shares, dtype="Float64"),
            "text": [
                fmt.withheld(threshold) if a is None else fmt.percent(a, lang, 0) for a in shares
            ],
            "hinweis": [withheld if a is None else "" for a in shares],
        },
        columns=TRIANGLE_COLUMNS,
    )


def funnel(
    steps: list[tuple[str, int]], threshold: int, lang: str, reasons: dict[str, str]
) -> pd.DataFrame:
    """The funnel's steps (name, count) as shown: ``anzahl`` (missing where withheld), the
    ``text`` ("528 (71 %)", "<3" for a small step, "*" for one withheld because of a small
    drop), and the reason (``reasons["small"]`` or ``["protected"]``) as ``hinweis``. A
    share is of the step before and never rounds onto 100 %."""
    hidden_steps = disclosure.protect_steps([count for _, count in steps], threshold)
    rows, previous = [], None
    for (name, count), hidden in zip(steps, hidden_steps, strict=True):
        share = (
            None
            if previous is None or hidden
            else disclosure.protect_rate(count, previous, threshold)
        )
        small = disclosure.is_small(count, threshold)
        text = fmt.number(count, lang)
        if hidden:
            text = fmt.withheld(threshold) if small else "*"
        if share is not None:
            text += f" ({fmt.share(share, lang, 0)})"
        rows.append(
            {
                "schritt": name,
                "anzahl": None if hidden else count,
                "text": text,
                "hinweis": "" if not hidden else reasons["small" if small else "protected"],
            }
        )
        previous = None if hidden else count
    return pd.DataFrame(rows, columns=["schritt", "anzahl", "text", "hinweis"])


def curves(
    frame: pd.DataFrame, chosen: list[str], threshold: int, lang: str, all_label: str
) -> pd.DataFrame:
    """The integration curves of the ``chosen`` cohorts and of all (``gesamt``) as drawn:
    small counts protected, a curve of one point left out (a point is no curve), in the
    order chosen with all last, each named as the triangle names it (``Okt 2026``) and
    all as ``all_label``. The Kohorten page and the monthly report draw these."""
    shown = disclosure.protect_curve(frame, threshold)
    shown = shown[shown.groupby("kohorte")["tage"].transform("size") > 1].copy()
    order = {k: i for i, k in enumerate([*chosen, "gesamt"])}  # the legend in time order
    shown = shown.sort_values("kohorte", key=lambda k: k.map(order), kind="stable")
    shown["kohorte"] = [
        all_label if k == "gesamt" else fmt.cohort(k, lang) for k in shown["kohorte"]
    ]
    return shown
