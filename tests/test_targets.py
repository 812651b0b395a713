"""Targets of the target agreement (ziele.toml): the file, the progress on the cards, the
target line in the monthly chart; against the hand-computed KPI fixture."""

from __future__ import annotations

import datetime as dt

import pytest

from kohorte.define import targets
from kohorte.define.kpis import BY_ID
from kohorte.read import cards
from kohorte.read import targets as goals
from kohorte.read.access import Principal

IN_WORK, WEEKS8 = "in_arbeit_programmjahr", "arbeit_in_8_wochen"
DROPOUT, APPLIED = "abbruchquote", "bewerbungen_je_woche"


def _card(kpi_id: str, value: float | None, state: str = cards.SHOWN) -> cards.Card:
    return cards.Card(BY_ID[kpi_id], state, value, None, None, None, None, None)


def test_the_example_file_parses_and_rates_are_percent():
    parsed = targets.parse(targets.EXAMPLE).for_year(2026)
    assert parsed["in_arbeit_programmjahr"] == targets.Target(
        "in_arbeit_programmjahr", 2026, "mindestens", 100
    )
    assert parsed["arbeit_in_8_wochen"].value == pytest.approx(0.333)
    assert parsed["abbruchquote"].direction == "hoechstens"
    assert targets.parse(targets.EXAMPLE).for_year(2025) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[26]\nabbruchquote = { hoechstens = 15 }\n", "[26] ist kein Programmjahr"),
        ("[2026]\nabbruchqoute = { hoechstens = 15 }\n", "abbruchqoute ist keine Kennzahl"),
        ("[2026]\nabbruchquote = 15\n", "braucht genau eines von mindestens"),
        ("[2026]\nabbruchquote = { weniger = 15 }\n", "braucht genau eines von mindestens"),
        ("[2026]\nabbruchquote = { hoechstens = -1 }\n", "muss eine Zahl ab 0 sein"),
        ("[2026]\nabbruchquote = { hoechstens = 150 }\n", "Ziel in Prozent, höchstens 100"),
        ("[2026\n", "kein gültiges TOML"),
    ],
)
def test_a_mistake_in_the_file_is_named_in_german(text, message):
    with pytest.raises(ValueError, match="ziele.toml") as error:
        targets.parse(text)
    assert message in str(error.value)


def test_the_programme_year_of_a_day():
    assert targets.programme_year(dt.date(2026, 3, 26), 1) == 2026
    assert targets.programme_year(dt.date(2026, 3, 26), 7) == 2025
    assert targets.programme_year(dt.date(2026, 7, 1), 7) == 2026


@pytest.mark.parametrize(
    ("kpi_id", "direction", "goal", "value", "text", "share"),
    [
        (IN_WORK, "mindestens", 100, 67, "Ziel: mindestens 100 · 67 % erreicht", 0.67),
        # 99,6 % of the way is not shown as 100 %
        (IN_WORK, "mindestens", 250, 249, "Ziel: mindestens 250 · 99 % erreicht", 0.996),
        (IN_WORK, "mindestens", 100, 104, "Ziel: mindestens 100 · erreicht", 1.0),
        (WEEKS8, "mindestens", 0.333, 0.292, "Ziel: mindestens 33,3 % · 4,1 Pp. darunter", None),
        (WEEKS8, "mindestens", 0.333, 0.40, "Ziel: mindestens 33,3 % · erreicht", None),
        (DROPOUT, "hoechstens", 0.15, 0.18, "Ziel: höchstens 15,0 % · 3,0 Pp. darüber", None),
        (APPLIED, "mindestens", 2, 1.5, "Ziel: mindestens 2,0 · nicht erreicht", None),
    ],
)  # fmt: skip
def test_progress_in_words(kpi_id, direction, goal, value, text, share):
    shown = goals.progress(
        _card(kpi_id, value), targets.Target(kpi_id, 2026, direction, goal), "de"
    )
    assert shown.text == text
    assert shown.share == (None if share is None else pytest.approx(share))


@pytest.mark.parametrize("state", [cards.HIDDEN, cards.PROTECTED])
def test_a_withheld_value_gets_the_target_alone(state):
    target = targets.Target("in_arbeit_programmjahr", 2026, "mindestens", 100)
    shown = goals.progress(_card("in_arbeit_programmjahr", None, state), target, "de")
    assert shown == goals.Progress("Ziel: mindestens 100", None, None)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.996, "99 %"),
        (0.994, "99 %"),
        (1.0, "100 %"),
        (0.0, "0 %"),
        (0.002, "<1 %"),
        (0.5, "50 %"),
    ],
)
def test_a_share_is_never_rounded_onto_an_end_it_has_not_reached(value, shown):
    from kohorte.read import fmt

    assert fmt.share(value, "de", 0) == shown


def test_progress_in_english():
    target = targets.Target("arbeit_in_8_wochen", 2026, "mindestens", 0.333)
    shown = goals.progress(_card("arbeit_in_8_wochen", 0.292), target, "en")
    assert shown.text == "Target: at least 33.3% · 4.1 pp below"


# --- on the Überblick ---------------------------------------------------------------------

GOALS = """
[2026]
in_arbeit_programmjahr = { mindestens = 100 }
arbeit_in_8_wochen = { mindestens = 33.3 }
abbruchquote = { hoechstens = 10 }

[2025]
in_arbeit_programmjahr = { mindestens = 5 }
"""


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_cards_show_the_target_of_this_programme_year(kpi_home):
    from conftest import run_app

    kpi_home.targets_file.write_text(GOALS, encoding="utf-8")
    at = run_app(Principal("tl", "teamleitung"))
    assert not at.exception and not at.error
    captions = _captions(at)
    # in_arbeit_programmjahr = 3 (tests/fixtures/kpi/README.md): 3 of 100, the 2026 target
    assert "Ziel: mindestens 100 · 3 % erreicht" in captions
    assert [p.value for p in at.get("progress")] == [3]  # Streamlit keeps percent
    # arbeit_in_8_wochen 1 of 5 is a small count: the target alone, no distance
    assert "Ziel: mindestens 33,3 %" in captions
    # abbruchquote 1 of 7 is withheld too: the target alone
    assert "Ziel: höchstens 10,0 %" in captions
    assert any(
        s.value.startswith("Programmjahr 2026 (01.01.2026 bis 30.06.2026)") for s in at.subheader
    )


def test_without_a_file_nothing_changes(kpi_home):
    from conftest import run_app

    at = run_app(Principal("tl", "teamleitung"))
    assert not any(c.startswith("Ziel") for c in _captions(at))
    assert not at.get("progress")


def test_a_broken_file_is_named_and_no_target_is_shown(kpi_home):
    from conftest import run_app

    kpi_home.targets_file.write_text("[2026]\nabbruchquote = 10\n", encoding="utf-8")
    at = run_app(Principal("tl", "teamleitung"))
    assert not at.exception and not at.error
    assert any("braucht genau eines von" in w.value for w in at.warning)
    assert not any(c.startswith("Ziel") for c in _captions(at))


def test_the_monthly_chart_draws_the_target_line(kpi_home):
    from conftest import run_app

    kpi_home.targets_file.write_text(
        "[2026]\nintegrationsquote = { mindestens = 40 }\n", encoding="utf-8"
    )
    at = run_app(Principal("tl", "teamleitung"))
    at.selectbox(key="rate_choice").set_value("integrationsquote").run()
    assert not at.exception and not at.error
    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any('"rule"' in spec and '"field": "ziel"' in spec for spec in specs)


def test_the_target_line_is_labelled_with_the_target():
    import pandas as pd

    from kohorte.present import charts

    labels = {
        "this_year": "Berichtsjahr", "previous_year": "Vorjahr", "final": "endgültig",
        "provisional": "vorläufig", "month": "Monat", "rate": "Integrationsquote",
        "status": "Stand", "target": "Ziel 40,0 %", "rolling": "Schnitt über 3 Monate",
        "count": "Anzahl",
    }  # fmt: skip
    frame = pd.DataFrame(
        {
            "monat": [dt.date(2026, 5, 1)],
            "reihe": ["Berichtsjahr"],
            "quote": [0.3],
            "stand": ["endgültig"],
            "anzahl": ["12 von 40"],
        }
    )
    spec = charts.monthly_rate(frame, labels, "de", target=0.4).to_dict()
    goal = [d for d in spec["datasets"].values() if d and "ziel" in d[0]]
    assert goal == [[{"ziel": 0.4, "text": "Ziel 40,0 %"}]]


def test_the_integration_figures_are_told_apart(kpi_home):
    """Four counts of integrations on one screen get a name and a line each."""
    from conftest import run_app

    at = run_app(Principal("tl", "teamleitung"))
    [box] = [e for e in at.expander if e.label == "Welche Integrationszahl ist welche?"]
    lines = box.markdown[0].value.splitlines()
    names = [line.split("**")[1] for line in lines]
    assert names == [
        "Integrationsquote", "Integrationen (K2-Zählung)", "In Arbeit seit Programmstart",
        "In Arbeit im Programmjahr", "Trichter",
    ]  # fmt: skip
    labels = {m.label for m in at.metric}
    assert set(names[:4]) - {"Integrationsquote"} <= labels | {"Integrationen (K2-Zählung)"}
