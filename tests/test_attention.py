"""Who needs attention today: every rule against the hand-computed fixture
(tests/fixtures/aufmerksamkeit/README.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from kohorte.build import warehouse
from kohorte.define import attention
from kohorte.define.attention import RULES, Thresholds
from kohorte.define.privacy import pseudonym
from kohorte.read import attention as listing
from kohorte.read.access import Principal

AS_OF = dt.date(2026, 6, 30)
DEFAULTS = Thresholds()
PERSONS = {
    "A1": "034D000001", "A2": "034D000002", "A3": "034D000003", "A4": "034D000004",
    "A5": "034D000005", "A6": "034D000006", "J1": "034D000011", "J2": "034D000012",
    "J3": "034D000013", "J4": "034D000014", "J5": "034D000015", "E1": "034D000021",
    "E2": "034D000022",
}  # fmt: skip
# (person, week, last session, reasons in German), most urgent first
EXPECTED = [
    ("J3", 8, dt.date(2026, 6, 29), ["Ende in 5 Tagen, noch kein nächster Schritt"]),
    ("E2", 8, dt.date(2026, 6, 30), ["Ende heute, noch kein nächster Schritt"]),
    (
        "A6",
        3,
        None,
        [
            "noch keinen Termin wahrgenommen",
            "3× unentschuldigt gefehlt in 14 Tagen",
            "Anwesenheit 0 % in 3 Wochen",
            "keine Bewerbung in 2 Wochen",
        ],
    ),
    (
        "A5",
        7,
        dt.date(2026, 6, 18),
        ["seit 12 Tagen kein Termin wahrgenommen", "Anwesenheit 44 % in 3 Wochen"],
    ),
    ("A2", 5, dt.date(2026, 6, 30), ["2× unentschuldigt gefehlt in 14 Tagen"]),
    ("J5", 5, dt.date(2026, 6, 22), ["Anwesenheit 56 % in 3 Wochen"]),
    ("A4", 5, dt.date(2026, 6, 30), ["Anwesenheit 67 % in 3 Wochen"]),
    ("J1", 5, dt.date(2026, 6, 30), ["keine Bewerbung in 2 Wochen"]),
]
# the persons each rule flags on its own (README's last column)
BY_RULE = {
    "austritt_ohne_anschluss": {"J3", "E2"},
    "kein_termin": {"A6", "A5"},
    "unentschuldigt": {"A2", "A6"},
    "anwesenheit": {"A4", "A5", "A6", "J5"},
    "bewerbungen": {"A6", "J1"},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The fixture loaded once for this module; tests that change a home get a copy."""
    from conftest import FIXTURES, deliver, load, make_settings

    settings = make_settings(tmp_path_factory.mktemp("aufmerksamkeit") / "home")
    deliver(settings, *sorted((FIXTURES / "aufmerksamkeit").glob("*.csv")))
    assert load(settings, AS_OF)["status"] == "published"
    return settings


@pytest.fixture(scope="module")
def loaded(template):
    settings = template
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    names = {pseudonym(settings.pseudonym_key(), number): p for p, number in PERSONS.items()}
    yield con, names
    con.close()


def _flagged(loaded, thresholds=DEFAULTS, principal=None, lang="de"):
    con, names = loaded
    frame = listing.fetch(con, thresholds, 8, principal=principal)
    shown = listing.listing(frame, thresholds, lang)
    shown["pid"] = shown["pid"].map(names)
    return shown


def test_the_list_is_the_hand_computed_one_in_its_order(loaded):
    shown = _flagged(loaded)
    got = [
        (
            row.pid,
            row.woche,
            None if row.letzter_termin != row.letzter_termin else row.letzter_termin.date(),
            row.gruende.split(" · "),
        )
        for row in shown.itertuples()
    ]
    assert got == EXPECTED
    assert set(shown["coach"]) == {"Anja Krüger", "Jörg Weiß"}
    assert shown["dringlichkeit"].tolist() == [1, 1, 2, 2, 3, 4, 4, 5]


@pytest.mark.parametrize("rule", [rule.id for rule in RULES])
def test_each_rule_alone_flags_the_persons_computed_by_hand(loaded, rule):
    others = frozenset(r.id for r in RULES if r.id != rule)
    assert set(_flagged(loaded, Thresholds(off=others))["pid"]) == BY_RULE[rule]


def test_thresholds_from_the_file_move_the_boundaries(loaded):
    # attendance below 60 %: A4 (67 %) drops out, J5 (56 %) stays; 1 unexcused absence
    # is enough: A3 (29.06.) comes in; 13 days without a session: A5 (12) drops out
    thresholds = attention.parse(
        "[anwesenheit]\nprozent = 60\n[unentschuldigt]\nanzahl = 1\n[kein_termin]\ntage = 13\n"
    )
    shown = _flagged(loaded, thresholds)
    by_person = dict(zip(shown["pid"], shown["gruende"], strict=True))
    assert "A4" not in by_person
    assert by_person["J5"] == "Anwesenheit 56 % in 3 Wochen"
    assert by_person["A3"] == "1× unentschuldigt gefehlt in 14 Tagen"
    assert by_person["A5"] == "Anwesenheit 44 % in 3 Wochen"


def test_a_coach_sees_only_her_own_participants(loaded):
    anja = Principal("anja", "coach", coach="Anja Krüger")
    assert _flagged(loaded, principal=anja)["pid"].tolist() == ["E2", "A6", "A5", "A2", "A4"]


def test_analysts_get_no_staff_names(loaded):
    shown = _flagged(loaded, principal=Principal("ana", "analyse"))
    assert "coach" not in shown.columns and len(shown) == len(EXPECTED)


def test_management_gets_no_list(loaded):
    from kohorte.read.access import AccessDenied

    with pytest.raises(AccessDenied):
        _flagged(loaded, principal=Principal("chef", "leitung"))


def test_the_reasons_read_in_english_too(loaded):
    shown = _flagged(loaded, lang="en")
    assert shown["gruende"].tolist()[:2] == [
        "ends in 5 days, no next step yet",
        "ends today, no next step yet",
    ]
    assert shown["gruende"].iloc[3] == "no session attended for 12 days · attendance 44% in 3 weeks"


def test_the_example_file_holds_exactly_the_defaults():
    parsed = attention.parse(attention.example_file())
    assert parsed.params() == Thresholds().params()
    assert parsed.off == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[anwesenhiet]\nprozent = 60\n", "unbekannte Regel [anwesenhiet]"),
        ("[anwesenheit]\nprocent = 60\n", "[anwesenheit] kennt procent nicht"),
        ('[anwesenheit]\nprozent = "60"\n', "prozent muss eine ganze Zahl ab 0 sein"),
        ("[anwesenheit]\nprozent = -1\n", "prozent muss eine ganze Zahl ab 0 sein"),
        ('[anwesenheit]\naktiv = "nein"\n', "aktiv muss true oder false sein"),
        ("[anwesenheit\n", "kein gültiges TOML"),
    ],
)
def test_a_mistake_in_the_file_is_named_in_german(text, message):
    with pytest.raises(ValueError, match="aufmerksamkeit.toml") as error:
        attention.parse(text)
    assert message in str(error.value)


def test_the_settings_read_the_file_in_the_home(settings):
    assert settings.attention_thresholds() == Thresholds()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.attention_file.write_text("[bewerbungen]\naktiv = false\nwochen = 3\n")
    thresholds = settings.attention_thresholds()
    assert thresholds.off == {"bewerbungen"}
    assert thresholds.params()["bewerbungen_wochen"] == 3


# --- on the Überblick ---------------------------------------------------------------------


@pytest.fixture
def home(template, settings):
    """This test's own home (``settings``, KOHORTE_HOME) with the fixture loaded."""
    from conftest import copy_home

    return copy_home(template, settings)


def _attention_table(at):
    return next(frame.value for frame in at.dataframe if "Grund" in frame.value.columns)


def test_the_team_lead_sees_the_list_first_on_the_overview(home):
    from conftest import run_app

    at = run_app(Principal("tl", "teamleitung"))
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Heute: wer braucht Aufmerksamkeit"
    table = _attention_table(at)
    assert list(table.columns) == ["Pseudonym", "Coach", "Woche", "Grund", "Letzter Termin"]
    assert len(table) == len(EXPECTED)
    assert table["Grund"].iloc[0] == "Ende in 5 Tagen, noch kein nächster Schritt"
    assert table["Letzter Termin"].tolist()[:3] == ["29.06.2026", "30.06.2026", "–"]
    assert any("8 Personen · Stand 30.06.2026" in c.value for c in at.caption)
    assert not any("je Coach" in c.value for c in at.caption)  # no consent configured


def test_a_coach_sees_her_own_and_the_counts_by_coach_need_consent(home, monkeypatch):
    from conftest import run_app

    at = run_app(Principal("anja", "coach", coach="Anja Krüger"))
    assert len(_attention_table(at)) == 5
    monkeypatch.setenv("KOHORTE_COACH_VIEWS", "1")
    at = run_app(Principal("tl", "teamleitung"))
    assert any(c.value == "je Coach: Anja Krüger 5 · Jörg Weiß 3" for c in at.caption)


def test_management_sees_no_list(home):
    from conftest import run_app

    at = run_app(Principal("chef", "leitung"))
    assert not at.exception and not at.error
    assert "Heute: wer braucht Aufmerksamkeit" not in [s.value for s in at.subheader]


def test_a_broken_threshold_file_is_named_and_the_defaults_apply(home):
    from conftest import run_app

    home.attention_file.write_text("[anwesenheit]\nprozent = 'siebzig'\n")
    at = run_app(Principal("tl", "teamleitung"))
    assert not at.exception and not at.error
    assert any("prozent muss eine ganze Zahl" in w.value for w in at.warning)
    assert len(_attention_table(at)) == len(EXPECTED)


def test_the_caseload_is_every_running_participation_with_its_flags(loaded):
    con, names = loaded
    joerg = Principal("joerg", "coach", coach="Jörg Weiß")
    frame = listing.fetch(con, DEFAULTS, 8, principal=joerg)
    shown = listing.caseload(frame, DEFAULTS, "de")
    shown["pid"] = shown["pid"].map(names)
    rows = {row.pid: row for row in shown.itertuples()}
    # flagged first (J3, J5, J1 as in the list), then J2 and J4 with no flag
    assert shown["pid"].tolist()[:3] == ["J3", "J5", "J1"]
    assert set(rows) == {"J1", "J2", "J3", "J4", "J5"}
    assert rows["J4"].naechster_schritt == "praktikum" and rows["J4"].gruende == ""
    assert rows["J1"].bewerbungen == 2  # two on 16.06.; the employer contact is none
    assert rows["J2"].woche == 2 and rows["J3"].woche == 8
    # J5 attended 5 of the 9 June sessions from 11.06. and every one before: 10 of 14
    assert rows["J5"].anwesenheit_anteil == pytest.approx(10 / 14)


def test_a_coach_starts_on_her_caseload_with_her_own_cards(home):
    from conftest import run_app

    at = run_app(Principal("anja", "coach", coach="Anja Krüger"))
    assert not at.exception and not at.error
    subheaders = [s.value for s in at.subheader]
    assert "Heute: wer braucht Aufmerksamkeit" in subheaders
    assert "Meine laufenden Teilnahmen" in subheaders
    caseload = next(f.value for f in at.dataframe if "Nächster Schritt" in f.value.columns)
    assert len(caseload) == 7  # A1 to A6 and E2 run; E1 has left
    assert list(caseload.columns) == [
        "Pseudonym", "Woche", "Anwesenheitsquote", "Letzter Termin", "Bewerbungen",
        "Nächster Schritt", "Hinweise",
    ]  # fmt: skip
    # her cards count her caseload: 7 running
    assert next(m.value for m in at.metric if m.label == "Aktive Teilnehmende") == "7"
    # the Überblick does not repeat her list
    at.switch_page("views/ueberblick.py").run()
    assert "Heute: wer braucht Aufmerksamkeit" not in [s.value for s in at.subheader]


def test_cached_cards_follow_the_threshold_and_the_selection(home, monkeypatch):
    """The cards are cached (dashboard.data._per_reader): a coach who opens the version
    right after the team lead gets her own caseload's cards, not the programme's, and a
    higher small-count threshold takes effect at once, not from the cache."""
    from conftest import run_app

    def active(principal, page=None) -> str:
        at = run_app(principal, page=page)
        assert not at.exception and not at.error
        return next(m.value for m in at.metric if m.label == "Aktive Teilnehmende")

    anja = Principal("anja", "coach", coach="Anja Krüger")
    team = active(Principal("tl", "teamleitung"))
    assert int(team) > 7  # the programme's running participations
    assert active(anja) == "7"  # her start page: her caseload
    assert active(anja, "views/ueberblick.py") == team  # the Überblick: the programme's
    monkeypatch.setenv("KOHORTE_MIN_COUNT", "10")
    assert active(anja) == "<10"  # 7 is below the threshold now: withheld
