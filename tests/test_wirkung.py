"""The impact estimate: hand-computed fixtures for both estimators and the balance, the
conditions under which no point estimate is shown, and a planted effect recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kohorte import demo
from kohorte.build import wirkung
from kohorte.define import wirkung as rule


def _sample(treated_x, treated_y, control_x, control_y):
    x = np.array([*treated_x, *control_x], float)[:, None]
    treated = np.array([True] * len(treated_x) + [False] * len(control_x))
    outcome = np.array([*treated_y, *control_y], float)
    return x, treated, outcome


def test_weighting_by_hand_on_a_saturated_score():
    """One yes/no attribute: the score is each cell's share of participants (x = 0: 2 of 6,
    so 1/3; x = 1: 4 of 6, so 2/3), and a comparison person weighs p / (1 - p): 1/2 at
    x = 0, 2 at x = 1. Participants in work: 4 of 6. Comparison, weighted:
    (1/2 * 1 + 2 * 1) / (1/2 * 4 + 2 * 2) = 2,5 / 6. Effect: 4/6 - 2,5/6 = 1/4.
    Naive: 4/6 - 2/6 = 1/3. Balance: participants have x = 1 in 4 of 6, the comparison
    group in 2 of 6; both variances (n - 1) are 4/15, so the SMD before is
    (1/3) / sqrt(4/15) = 0,6455; after weighting the comparison group's mean of x is
    (2 * 2) / 6 = 4/6, as the participants': SMD 0."""
    x, treated, outcome = _sample(
        [0, 0, 1, 1, 1, 1], [1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 1, 0]
    )
    point = wirkung.fit(x, treated, outcome, ["x"])
    assert point.scores[:6] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3], abs=1e-6)
    assert point.att["gewichtung"] == pytest.approx(1 / 4, abs=1e-6)
    assert point.control_rate["gewichtung"] == pytest.approx(2.5 / 6, abs=1e-6)
    assert point.smd["vorher"]["x"] == pytest.approx((1 / 3) / np.sqrt(4 / 15), abs=1e-6)
    assert point.smd["gewichtung"]["x"] == pytest.approx(0, abs=1e-6)
    assert point.off_support == 0


def test_matching_by_hand_with_one_attribute():
    """One continuous attribute: the score's logit is a + b * x, so the nearest comparison
    person on it is the nearest on x, and the caliper (0,2 standard deviations of the
    logit) is 0,2 * sd(x) = 0,2 * 3,02 = 0,60 on x. Participant x = 10 lies beyond the
    comparison group's largest x (8): outside the common support. x = 4,8 has its nearest
    at 6 (1,2 away): no partner. x = 1, 2, 3 match 0,9, 2,05 and 3,5 (in work: 1, 0, 1
    against 0, 1, 0), so the effect is 2/3 - 1/3 = 1/3."""
    x, treated, outcome = _sample(
        [1, 2, 3, 4.8, 10], [1, 0, 1, 1, 1], [0.9, 2.05, 3.5, 6, 7, 0, 8], [0, 1, 0, 1, 1, 0, 0]
    )
    point = wirkung.fit(x, treated, outcome, ["x"])
    assert rule.CALIPER_SD * x.std() == pytest.approx(0.604, abs=0.001)
    assert (point.off_support, point.unmatched) == (1, 1)
    assert point.treated_rate["matching"] == pytest.approx(2 / 3)
    assert point.control_rate["matching"] == pytest.approx(1 / 3)
    assert point.att["matching"] == pytest.approx(1 / 3)
    # balance after matching: participants 1, 2, 3 (mean 2) against 0,9, 2,05, 3,5 (2,15)
    spread = np.sqrt((np.var([1, 2, 3, 4.8, 10], ddof=1) + np.var(x[5:], ddof=1)) / 2)
    assert point.smd["matching"]["x"] == pytest.approx((2 - 2.15) / spread)


def _world(treated: int, controls: int, shift: float = 0.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = treated + controls
    frame = pd.DataFrame(
        {
            "teilnahme": [True] * treated + [False] * controls,
            "in_arbeit": rng.random(n) < 0.3,
            "a": rng.normal(size=n),
        }
    )
    frame.loc[frame["teilnahme"], "a"] += shift
    return frame


def test_too_few_persons_give_reasons_and_no_estimate():
    result = wirkung.estimate(_world(49, 99), ["a"], resamples=10)
    assert not result.shown and not result.att
    assert [r["code"] for r in result.reasons] == ["too_few_treated", "too_few_controls"]
    assert result.reasons[0] == {"code": "too_few_treated", "minimum": 50, "n": 49}
    assert result.naive is not None  # the naive difference is always there


def test_attributes_that_separate_the_groups_give_no_estimate():
    frame = _world(60, 120)
    frame["a"] = frame["teilnahme"].astype(float)
    result = wirkung.estimate(frame, ["a"], resamples=10)
    assert [r["code"] for r in result.reasons] == ["separation"] and not result.att


def test_thin_overlap_is_said_and_hides_the_estimate():
    """Participants shifted four standard deviations: most have no comparable person."""
    result = wirkung.estimate(_world(80, 200, shift=4.0), ["a"], resamples=20)
    assert "overlap" in [r["code"] for r in result.reasons]
    assert result.off_support + result.unmatched > 0.1 * 80
    assert not result.shown


def test_an_attribute_without_variation_is_not_used():
    frame = _world(60, 120)
    frame["konstant"] = 1.0
    result = wirkung.estimate(frame, ["a", "konstant"], resamples=10)
    assert result.attributes == ["a"]


def test_the_same_data_give_the_same_interval():
    world = pd.DataFrame(demo.comparison_world(3, 0.1))
    first, again = (wirkung.estimate(world, list(demo.MERKMALE), resamples=60) for _ in range(2))
    assert first.interval == again.interval and first.att == again.att
    assert first.shown and first.failed_resamples == 0


# --- the nightly mart, the read layer and its outputs --------------------------------------


def _persons(**merkmale_by_group) -> pd.DataFrame:
    rows = []
    for group, merkmale in merkmale_by_group.items():
        for i in range(4):
            rows.append(
                {"gruppe": group, "in_arbeit": i % 2 == 0, "standort": "A", "jahr": 2025,
                 "alter": 30 + i, "langzeitleistungsbezug": True, "berufsabschluss": i > 1,
                 "geschlecht": "w", "merkmale": merkmale(i), "tage_bis_verbleib": 240}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_an_attribute_of_one_group_only_is_not_used_and_said():
    """merkmal_kinder only on participants: left out, with a note; merkmal_schuljahre on
    both: used; a person without schuljahre is left out and counted."""
    persons = _persons(
        teilnahme=lambda i: {"kinder": 1.0, "schuljahre": 9.0 + i},
        vergleich=lambda i: {"schuljahre": 10.0} if i else {},
    )
    frame, attributes, notes = wirkung.design(persons)
    assert "merkmal_schuljahre" in attributes and "merkmal_kinder" not in attributes
    assert {"code": "one_side", "name": "merkmal_kinder", "side": "teilnahme"} in notes
    assert {"code": "incomplete", "n": 1} in notes and len(frame) == 7


def test_reasons_and_notes_read_german_with_a_decimal_comma():
    from kohorte.read import wirkung as impact

    balance = {"code": "balance", "names": ["merkmal_schuljahre", "alter"], "limit": 0.1}
    assert impact._words(balance, rule.REASONS, "de") == (
        "Die Gruppen sind nach der Anpassung nicht vergleichbar genug: Schuljahre, Alter "
        "weichen um mehr als 0,1 Standardabweichungen ab."
    )
    overlap = {"code": "overlap", "share": 0.897, "minimum": 0.9}
    assert "nur 89,7 % der Teilnehmenden" in impact._words(overlap, rule.REASONS, "de")
    assert "only 89.7% of participants" in impact._words(overlap, rule.REASONS, "en")
    one_side = {"code": "one_side", "name": "merkmal_kinder", "side": "vergleich"}
    assert impact._words(one_side, rule.NOTES, "de") == (
        "Merkmal Kinder liegt nur für Vergleichspersonen vor und wird nicht berücksichtigt."
    )


@pytest.mark.parametrize(
    ("low", "high", "sentence"),
    [
        (0.091, 0.172, "Ohne das Programm wären schätzungsweise 9 bis 17 von 100 "
                       "Teilnehmenden weniger in Arbeit."),
        (-0.05, 0.04, "Die Schätzung reicht von 5 mehr bis 4 weniger von 100 Teilnehmenden "
                      "in Arbeit ohne das Programm: eine Wirkung ist von keiner nicht zu "
                      "unterscheiden."),
        (-0.12, -0.03, "Ohne das Programm wären schätzungsweise 3 bis 12 von 100 "
                       "Teilnehmenden mehr in Arbeit."),
    ],
)  # fmt: skip
def test_the_interval_in_one_plain_sentence(low, high, sentence):
    from kohorte.read import wirkung as impact

    assert impact.sentence({"von": low, "bis": high}) == sentence


def test_a_small_band_of_the_histogram_is_withheld_with_a_second_one():
    """The page shows each group's total: one withheld band could be recovered from it, so
    a second band of that group is withheld too; the other group shows all of its bands."""
    from kohorte.read import wirkung as impact

    bands = [(0.0, 0.05, 1), (0.05, 0.1, 7), (0.1, 0.15, 9)]
    frame = pd.DataFrame(
        [{"gruppe": g, "von": a, "bis": b, "n": n if g == "teilnahme" else 10 + n}
         for g in ("teilnahme", "vergleich") for a, b, n in bands]
    )  # fmt: skip
    shown = impact._overlap(frame, threshold=3)
    treated = [row["n"] for row in shown if row["gruppe"] == "teilnahme"]
    assert treated.count(None) == 2 and treated[0] is None
    assert [row["n"] for row in shown if row["gruppe"] == "vergleich"] == [11, 17, 19]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A programme of two years with a comparison group and 10 points planted, loaded."""
    from conftest import TEST_KEY, load, make_settings

    from kohorte.demo import Programme, write_deliveries

    settings = make_settings(tmp_path_factory.mktemp("wirkung") / "home")
    write_deliveries(
        Programme(seed=5, start=pd.Timestamp("2024-06-03").date(),
                  end=pd.Timestamp("2026-11-27").date(), planted_effect=0.10),
        settings.inbox,
    )  # fmt: skip
    load(settings, pd.Timestamp("2026-11-30").date())
    return settings, TEST_KEY


@pytest.mark.slow
def test_the_nightly_build_estimates_the_planted_effect_and_the_shell_prints_it(
    planted, monkeypatch
):
    """Through the whole nightly run: the comparison group is loaded, its persons who also
    take part are left out and counted, the weighting interval covers the planted 10
    points, the naive difference lies below it, and ``kohorte wirkung`` says so."""
    import json as json_

    from typer.testing import CliRunner

    from kohorte.cli import app

    settings, key = planted
    monkeypatch.setenv("KOHORTE_HOME", str(settings.home))
    monkeypatch.setenv("KOHORTE_PSEUDONYM_KEY", key)
    result = CliRunner().invoke(app, ["wirkung", "--json"])
    assert result.exit_code == 0, result.output
    report = json_.loads(result.output)
    overall = report["gesamt"]
    assert report["vergleichsgruppe"] and overall["gezeigt"], overall["gruende"]
    weighting = overall["schaetzungen"]["gewichtung"]
    assert weighting["von"] <= 0.10 <= weighting["bis"]
    assert overall["naiv"] < weighting["von"]
    assert overall["vergleich_auch_teilnehmende"] > 0
    assert overall["stichproben"] == rule.RESAMPLES
    text = CliRunner().invoke(app, ["wirkung"]).output
    assert "Ohne das Programm wären schätzungsweise" in text and "Einfacher Unterschied" in text


@pytest.mark.slow
def test_the_wirkung_page_for_those_who_may_see_it(planted, monkeypatch):
    from conftest import run_app

    from kohorte.read.access import Principal

    settings, key = planted
    monkeypatch.setenv("KOHORTE_HOME", str(settings.home))
    monkeypatch.setenv("KOHORTE_PSEUDONYM_KEY", key)
    at = run_app(Principal("t", "teamleitung"), page="views/wirkung.py")
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("Ohne das Programm wären schätzungsweise")
    labels = [m.label for m in at.metric]
    assert "Einfacher Unterschied" in labels and "Gewichtung (inverse Wahrscheinlichkeit)" in labels
    assert "Was die Schätzung annimmt" in [e.label for e in at.expander]
    english = run_app(Principal("l", "leitung"), {"lang": "en"}, page="views/wirkung.py")
    assert english.subheader[0].value.startswith("Without the programme, an estimated")
    for role in ("leitung", "analyse", "teamleitung"):
        assert Principal("x", role).may("impact")
    assert not Principal("c", "coach", "Anja Krüger").may("impact")


def test_follow_ups_at_other_distances_give_a_note():
    """Participants' follow-up 240 days after entry (median), the comparison group's 300
    days after its reference date: 60 days apart, more than the 45 allowed."""
    persons = _persons(teilnahme=lambda i: {}, vergleich=lambda i: {})
    assert wirkung._timing(persons) == []
    persons.loc[persons["gruppe"] == "vergleich", "tage_bis_verbleib"] = 300
    assert wirkung._timing(persons) == [{"code": "timing", "t": 240, "v": 300, "tolerance": 45}]


def test_the_sentence_in_english():
    from kohorte.read import wirkung as impact

    assert impact.sentence({"von": 0.091, "bis": 0.172}, "en") == (
        "Without the programme, an estimated 9 to 17 fewer in every 100 participants would "
        "be in work."
    )


@pytest.mark.slow
def test_a_night_without_new_follow_ups_keeps_the_estimate(planted, monkeypatch):
    """An incremental night whose persons and settings are those of the previous version
    keeps its estimate and fits nothing (the fits are the expensive part)."""
    import datetime as dt

    from conftest import deliver, load

    from kohorte.build import warehouse

    settings, _ = planted
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    before = con.sql("select * from marts.wirkung order by 1, 2").fetchall()
    con.close()
    fitted = []
    monkeypatch.setattr(wirkung, "estimate", lambda *a, **k: fitted.append(a))
    activity = settings.home / "aktivitaeten_nachtrag.csv"  # a person nobody knows yet
    activity.write_text("kundennummer;datum;art\n999D999999;27.11.2026;beratung\n")
    deliver(settings, activity)
    run = load(settings, dt.date(2026, 11, 30))
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    after = con.sql("select * from marts.wirkung order by 1, 2").fetchall()
    mode = con.execute("select build_mode from meta.build").fetchall()[0][0]
    con.close()
    assert run["status"] == "published" and mode == "incremental"
    assert after == before and not fitted


def test_a_small_count_of_a_scope_reads_withheld_not_missing():
    """A site with two participants: its count shows "<3" on the page, in the shell's
    text and as null in the JSON; a count of 0 stays 0."""
    from kohorte.read import wirkung as impact

    row = dict.fromkeys(wirkung.MART_COLUMNS)
    row.update(bereich="standort", wert="A", teilnehmende=2, vergleich=140, gezeigt=False,
               gruende="[]", hinweise="[]", merkmale="alter", ohne_partner=0)  # fmt: skip
    scope = impact._scope(row, threshold=3, lang="de")
    assert scope["teilnehmende"] is None and scope["zurueckgehalten"] == ["teilnehmende"]
    assert impact.count_text(scope, "teilnehmende") == "<3"
    assert impact.count_text(scope, "vergleich") == "140"
    assert impact.count_text(scope, "ohne_partner") == "0"
    assert scope["quote_teilnehmende"] is None and scope["naiv"] is None
