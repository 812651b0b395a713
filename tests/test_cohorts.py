"""The cohort page's figures as they may be shown (kohorte.read.cohorts), hand-computed."""

from __future__ import annotations

import pandas as pd

from kohorte.read import cohorts

REASONS = {"small": "weniger als 3", "protected": "sonst errechenbar"}


def test_triangle_cells_with_their_text_reason_and_name():
    """Threshold 3. 1 of 10 is a small count: withheld, "<3" with its reason; 0 of 5 is
    shown (a zero reveals nobody); 5 of 10 is 50 %."""
    frame = pd.DataFrame(
        {
            "kohorte": ["2026-10"] * 3,
            "woche": [1, 2, 3],
            "integriert": [1, 0, 5],
            "teilnahmen": [10, 5, 10],
        }
    )
    cells = cohorts.triangle(frame, 3, "de", "weniger als 3")
    assert list(cells.columns) == cohorts.TRIANGLE_COLUMNS  # no count leaves the server
    assert cells["text"].tolist() == ["<3", "0 %", "50 %"]
    assert cells["hinweis"].tolist() == ["weniger als 3", "", ""]
    assert cells["anteil"].isna().tolist() == [True, False, False]
    assert set(cells["name"]) == {"Okt 2026"}


def test_funnel_steps_hide_small_counts_and_small_drops():
    """100 -> 71 (71 %) -> 70 (a drop of 1 would tell who left: "*") -> 40 (no share: the
    step before is withheld) -> 2 (a small count: "<3")."""
    steps = [("Eintritt", 100), ("anwesend", 71), ("Bewerbung", 70), ("Gespräch", 40),
             ("Integration", 2)]  # fmt: skip
    rows = cohorts.funnel(steps, 3, "de", REASONS)
    assert rows["text"].tolist() == ["100", "71 (71 %)", "*", "40", "<3"]
    assert rows["hinweis"].tolist() == ["", "", "sonst errechenbar", "", "weniger als 3"]
    assert rows["anzahl"].isna().tolist() == [False, False, True, False, True]


def test_the_curves_drawn_are_protected_ordered_and_named():
    """Page and report draw the same curves: a step among fewer than three at risk is cut,
    a one-point curve left out, the chosen cohorts in order with all last, named."""
    import pandas as pd

    from kohorte.read import cohorts as read_cohorts

    frame = pd.DataFrame(
        [
            ("gesamt", 0, 9, 0.0), ("gesamt", 30, 8, 0.25),
            ("2026-10", 0, 5, 0.0), ("2026-10", 20, 3, 0.2), ("2026-10", 40, 2, 0.5),
            ("2026-09", 0, 4, 0.0), ("2026-09", 10, 2, 0.5),  # one point at >= 3 at risk
        ],
        columns=["kohorte", "tage", "unter_risiko", "anteil_integriert"],
    )  # fmt: skip
    shown = read_cohorts.curves(frame, ["2026-09", "2026-10"], 3, "de", "alle")
    assert list(shown.itertuples(index=False, name=None)) == [
        ("Okt 2026", 0, 0.0), ("Okt 2026", 20, 0.2), ("alle", 0, 0.0), ("alle", 30, 0.25),
    ]  # fmt: skip
