"""Hand-computed cases for the rules of docs/kpis.md, each a tiny programme loaded through
the real nightly steps: ownership of events, ties, the as-of date, Kaplan-Meier halves,
partitions, defaults, protection in every output, empty selections, the coach gate and
the caseload of a coach."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import load
from typer.testing import CliRunner

from kohorte.build import warehouse
from kohorte.cli import app
from kohorte.define.dimensions import Filters
from kohorte.read import cards, queries
from kohorte.read.access import AccessDenied, Principal

HEADERS = {
    "teilnehmende": "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;"
    "geburtsjahr;langzeitleistungsbezug;berufsabschluss",
    "anwesenheit": "kundennummer;datum;status;stunden",
    "aktivitaeten": "kundennummer;datum;art;anzahl",
    "ergebnisse": "kundennummer;datum;art;befristet;wochenstunden",
    "verbleib": "kundennummer;stichtag;status",
}


def person(n: int, entry: str, exit_: str = "", coach: str = "Anja Krüger", gender="w") -> str:
    reason = "regulaer" if exit_ else ""
    return f"012D{n:06d};{entry};{exit_};{reason};{coach};{gender};1980;ja;nein"


def programme(settings, load_date: dt.date, **kinds: list[str]):
    """Deliver the given lines per kind, load once, return a read-only connection."""
    for kind, lines in kinds.items():
        text = "\n".join([HEADERS[kind], *lines]) + "\n"
        (settings.inbox / f"{kind}_{load_date:%Y%m%d}.csv").write_text(text, encoding="utf-8")
    assert load(settings, load_date)["status"] == "published"
    return warehouse.connect_readonly(warehouse.current_path(settings))


def kpis(con, filters: Filters | None = None) -> dict[str, tuple]:
    frame = queries.run(con, "ueberblick__kennzahlen", filters)
    return {
        r["kennzahl"]: (
            None if r["zaehler"] is None or r["zaehler"] != r["zaehler"] else float(r["zaehler"]),
            None if r["nenner"] is None or r["nenner"] != r["nenner"] else float(r["nenner"]),
        )
        for r in frame.to_dict("records")
    }


def test_a_session_after_exit_belongs_to_no_participation(settings):
    """Case 1: sessions and activities belong to entry..exit; an outcome to exit + 28 days.
    P1 05.01.-30.01.2026: a session on 09.02. (10 days after exit) is no session of hers
    and a data-check warning; a job on 20.02. (21 days after) is her integration."""
    con = programme(
        settings,
        dt.date(2026, 3, 31),
        teilnehmende=[person(1, "05.01.2026", "30.01.2026"), person(2, "05.01.2026")],
        anwesenheit=[
            "012D000001;07.01.2026;anwesend;3",
            "012D000001;09.02.2026;anwesend;3",
            "012D000002;31.03.2026;anwesend;3",
        ],  # fmt: skip
        aktivitaeten=["012D000001;09.02.2026;bewerbung;2"],
        ergebnisse=["012D000001;20.02.2026;svb_beschaeftigung;nein;39"],
    )
    try:
        owners = dict(
            con.execute(
                "select strftime(datum, '%d.%m.') || quelle, teilnahme_id is not null "
                "from marts.ereignisse"
            ).fetchall()
        )
        assert owners == {
            "07.01.anwesenheit": True,
            "09.02.anwesenheit": False,
            "09.02.aktivitaet": False,
            "20.02.ergebnis": True,
            "31.03.anwesenheit": True,
        }
        values = kpis(con)
        assert values["anwesenheitsquote"] == (6, 6)  # two sessions of participations
        assert values["bewerbungen_je_woche"][0] == 0
        checks = dict(con.execute("select name, failing_rows from meta.checks").fetchall())
        assert checks["assert_attendance_belongs_to_participation"] == 1
    finally:
        con.close()


def test_two_outcomes_on_the_last_day_give_one_answer(settings):
    """Case 2: a mini-job and further training on the last day of the 28-day window: a job
    among the last day's outcomes counts as employed upon leaving, on every load."""
    lines = dict(
        teilnehmende=[person(1, "05.01.2026", "30.01.2026")],
        ergebnisse=[
            "012D000001;27.02.2026;weiterbildung;;",
            "012D000001;27.02.2026;minijob;;8",
        ],
    )
    con = programme(settings, dt.date(2026, 3, 31), **lines)
    try:
        assert kpis(con)["beschaeftigt_bei_austritt"] == (1, 1)
    finally:
        con.close()


def test_follow_ups_delivered_after_the_end_move_the_as_of_date(settings):
    """Case 3: the last participant left 27.02.2026; the follow-up of 28.08.2026 arrives in
    October. The as-of date becomes 28.08.2026 and the 6-month rate reports it: 1 of 1."""
    con = programme(
        settings,
        dt.date(2026, 10, 15),
        teilnehmende=[person(1, "05.01.2026", "27.02.2026")],
        anwesenheit=["012D000001;06.01.2026;anwesend;3"],
        verbleib=["012D000001;28.08.2026;svb_beschaeftigt"],
    )
    try:
        assert con.execute("select as_of from meta.build").fetchone()[0] == dt.date(2026, 8, 28)
        assert kpis(con)["verbleibsquote_6m"] == (1, 1)
    finally:
        con.close()


def test_a_curve_at_exactly_one_half_has_its_median_there(settings):
    """Case 4: four entries on 05.01.2026; integrations on day 10 and day 20, the others
    censored later: S(10) = 3/4, S(20) = 3/4 x 2/3 = 1/2 exactly, so the median is 20.
    (2/3 x 3/4 in floating point is 0.49999999999999994.)"""
    con = programme(
        settings,
        dt.date(2026, 6, 30),
        teilnehmende=[
            person(1, "05.01.2026", "10.02.2026"),
            person(2, "05.01.2026", "10.02.2026"),
            person(3, "05.01.2026", "10.02.2026"),
            person(4, "05.01.2026", "10.02.2026"),
        ],
        ergebnisse=[
            "012D000001;15.01.2026;svb_beschaeftigung;nein;39",
            "012D000002;25.01.2026;svb_beschaeftigung;nein;39",
        ],
    )
    try:
        # S(10) = 3/4 only after day 10; the second factor needs 3 at risk on day 20
        assert kpis(con)["tage_bis_integration"] == (20, 4)
    finally:
        con.close()


def test_an_integration_after_the_next_entry_counts_for_one_coach(settings):
    """Case 5: P1 with coach A 05.01.-30.01.2026, again with coach B from 10.02.; a job on
    15.02. is within 28 days of the first exit but after the second entry: it belongs to the
    second participation. K2 counts 1 in the whole and 0 + 1 by coach."""
    con = programme(
        settings,
        dt.date(2026, 6, 30),
        teilnehmende=[
            person(1, "05.01.2026", "30.01.2026", coach="Coach A"),
            person(1, "10.02.2026", "20.03.2026", coach="Coach B"),
        ],
        ergebnisse=["012D000001;15.02.2026;svb_beschaeftigung;nein;39"],
        # a later session of nobody's participation sets the as-of date: windows closed
        anwesenheit=["012D000009;30.06.2026;anwesend;3"],
    )
    try:
        whole = kpis(con)["integrationen_k2"][0]
        a = kpis(con, Filters(coach="Coach A"))["integrationen_k2"][0]
        b = kpis(con, Filters(coach="Coach B"))["integrationen_k2"][0]
        assert (whole, a, b) == (1, 0, 1)
        assert kpis(con, Filters(coach="Coach A"))["integrationsquote"] == (0, 1)
        assert kpis(con, Filters(coach="Coach B"))["integrationsquote"] == (1, 1)
    finally:
        con.close()


def test_an_empty_anzahl_counts_as_one(settings):
    """Case 6: the contract's default for anzahl is 1, also for an empty cell."""
    con = programme(
        settings,
        dt.date(2026, 3, 31),
        teilnehmende=[person(1, "05.01.2026")],
        anwesenheit=[
            "012D000001;05.01.2026;anwesend;3",
            "012D000001;06.01.2026;anwesend;3",
            "012D000001;07.01.2026;anwesend;3",
        ],  # fmt: skip
        aktivitaeten=["012D000001;06.01.2026;bewerbung;", "012D000001;07.01.2026;bewerbung;2"],
    )
    try:
        assert kpis(con)["bewerbungen_je_woche"] == (3, 1)
    finally:
        con.close()


def test_the_command_line_protects_small_counts(settings, monkeypatch):
    """Case 7: one active participant: `kohorte kpis` prints <3 and its JSON says
    suppressed without the value."""
    programme(
        settings,
        dt.date(2026, 3, 31),
        teilnehmende=[person(1, "05.01.2026")],
        anwesenheit=["012D000001;05.01.2026;anwesend;3"],
    ).close()
    monkeypatch.setenv("KOHORTE_HOME", str(settings.home))
    result = CliRunner().invoke(app, ["kpis", "--json"])
    active = next(k for k in json.loads(result.output)["kpis"] if k["id"] == "aktive_teilnehmende")
    assert active["suppressed"] is True and active["value"] is None
    assert active["numerator"] is None
    text = CliRunner().invoke(app, ["kpis"]).output
    line = next(x for x in text.splitlines() if "Aktive Teilnehmende" in x)
    assert "<3" in line and " 1" not in line


def test_protection_hides_complements_and_empty_selections():
    """Case 11 and 8, as plain functions: "3 von 4" reveals the one without; a filtered
    count whose complement in the whole is 1 reveals that one; no participations: "–"."""
    row = {
        "kennzahl": "integrationsquote", "zaehler": 3, "nenner": 4, "fenster_von": None,
        "fenster_bis": None, "vorjahr_zaehler": None, "vorjahr_nenner": None,
        "vorjahr_vollstaendig": False,
    }  # fmt: skip
    assert cards.protect_kpis([row])[0].state == cards.PROTECTED
    active = {**row, "kennzahl": "aktive_teilnehmende", "zaehler": 28, "nenner": None}
    whole = {**active, "zaehler": 29}
    assert cards.protect_kpis([active], whole=[whole])[0].state == cards.PROTECTED
    assert cards.protect_kpis([active], whole=[{**whole, "zaehler": 40}])[0].state == cards.SHOWN
    empty = cards.protect_kpis([row, active], selection_size=0)
    assert {c.state for c in empty} == {cards.EMPTY}


def test_an_empty_selection_shows_dashes_not_an_error(kpi_env):
    """Case 8: a start date in the future matches nobody: every card "–", no exception."""
    from conftest import run_app

    at = run_app(Principal("tl", "teamleitung"), {"von": "2030-01-01"})
    assert not at.exception and not at.error
    assert {m.value for m in at.metric} == {"–"}


@pytest.fixture
def kpi_env(kpi_home):
    return kpi_home  # the KPI fixture delivered and loaded in this test's home


@pytest.mark.parametrize("role", ["teamleitung", "leitung", "analyse", "coach"])
@pytest.mark.parametrize("views", [False, True])
def test_the_coach_dimension_needs_consent(kpi_env, monkeypatch, role, views):
    """Case 9: a colleague's figures only for a team lead with KOHORTE_COACH_VIEWS on; a
    coach always for her own caseload."""
    if views:
        monkeypatch.setenv("KOHORTE_COACH_VIEWS", "1")
    else:
        monkeypatch.delenv("KOHORTE_COACH_VIEWS", raising=False)
    me = Principal("x", role, "Anja Krüger" if role == "coach" else None)
    con = warehouse.connect_readonly(warehouse.current_path(kpi_env))
    try:
        for name in ("ueberblick__kennzahlen", "ueberblick__monatszahlen"):
            params = {} if name == "ueberblick__kennzahlen" else {"start": dt.date(2025, 1, 1)}
            colleague = Filters(coach="Jörg Weiß")
            if role == "teamleitung" and views:
                queries.run(con, name, colleague, me, **params)
            else:
                with pytest.raises(AccessDenied):
                    queries.run(con, name, colleague, me, **params)
            if role == "coach":
                queries.run(con, name, Filters(coach="Anja Krüger"), me, **params)
    finally:
        con.close()


def test_a_coach_sees_only_her_own_participations_of_a_person(settings):
    """Case 10: P1 was with Anja, now with Jörg: Anja sees her participation and its
    events, not Jörg's; an analyst sees no coach names."""
    con = programme(
        settings,
        dt.date(2026, 6, 30),
        teilnehmende=[
            person(1, "05.01.2026", "30.01.2026", coach="Anja Krüger"),
            person(1, "01.03.2026", coach="Jörg Weiß"),
        ],
        anwesenheit=["012D000001;06.01.2026;anwesend;3", "012D000001;02.03.2026;anwesend;3"],
        ergebnisse=["012D000001;10.03.2026;praktikum;;"],
    )
    anja = Principal("a", "coach", "Anja Krüger")
    try:
        pid = con.execute("select pid from marts.teilnahmen limit 1").fetchone()[0]
        mine = queries.run(con, "teilnehmende__teilnahmen", None, anja, pid=pid)
        assert list(mine["coach"]) == ["Anja Krüger"]
        events = queries.run(con, "teilnehmende__zeitleiste", None, anja, pid=pid)
        assert [d.strftime("%d.%m.") for d in events["datum"]] == ["06.01."]
        lead = queries.run(
            con, "teilnehmende__zeitleiste", None, Principal("t", "teamleitung"), pid=pid
        )
        assert len(lead) == 3
        analyst = queries.run(con, "kohorten__teilnehmende", None, Principal("n", "analyse"))
        assert "coach" not in analyst.columns and len(analyst) == 2
    finally:
        con.close()


def _differences(whole: cards.Card, parts: list[cards.Card]) -> list[float]:
    """What subtraction recovers: the whole minus the shown parts, wherever a part is
    hidden (for counts the value, for rates the numerator and denominator)."""
    found = []
    for field in ("value", "numerator", "denominator"):
        total = getattr(whole, field)
        if total is None or whole.state != cards.SHOWN:
            continue
        shown = [getattr(p, field) for p in parts if p.state == cards.SHOWN]
        if len(shown) < len(parts) and all(v is not None for v in shown):
            found.append(total - sum(shown))
    return found


def test_no_view_of_a_partition_reveals_a_small_count_by_subtraction(settings):
    """Case 11: 8 active participants, w 4, m 3, d 1. Cards for the whole and for each
    gender: 8 - 4 - 3 would give d = 1. Every difference the views allow is 0 or at least
    the threshold."""
    people = [person(i, "05.01.2026", gender="w") for i in range(1, 5)]
    people += [person(i, "05.01.2026", gender="m") for i in range(5, 8)]
    people += [person(8, "05.01.2026", gender="d")]
    sessions = [f"012D{i:06d};30.03.2026;anwesend;3" for i in range(1, 9)]
    con = programme(settings, dt.date(2026, 3, 31), teilnehmende=people, anwesenheit=sessions)

    def fetch(filters: Filters) -> list[dict]:
        return queries.run(con, "ueberblick__kennzahlen", filters).to_dict("records")

    try:
        whole = cards.for_selection(fetch, Filters(), {})
        parts = [cards.for_selection(fetch, Filters(geschlecht=g), {}) for g in "wmd"]
        active = [next(c for c in shown if c.kpi.id == "aktive_teilnehmende") for shown in parts]
        assert [c.state for c in active] == [cards.SHOWN, cards.PROTECTED, cards.HIDDEN]
        for index, card in enumerate(whole):
            for difference in _differences(card, [p[index] for p in parts]):
                assert not 0 < difference < 3, (card.kpi.id, difference)
    finally:
        con.close()


def test_internship_or_training_during_the_participation(settings):
    """The KPI added through one definition: exits with an internship or further training
    starting between entry and exit. P1 Praktikum during (counts), P2 Weiterbildung 10
    days after exit (does not), P3 none, P4 Weiterbildung on the exit day (counts): 2 of 4.
    A lowercase customer number is the same person (P4's outcome)."""
    con = programme(
        settings,
        dt.date(2026, 6, 30),
        teilnehmende=[person(i, "05.01.2026", "27.02.2026") for i in range(1, 5)],
        ergebnisse=[
            "012D000001;20.01.2026;praktikum;;",
            "012D000002;09.03.2026;weiterbildung;;",
            "012d000004;27.02.2026;weiterbildung;;",
        ],
        anwesenheit=["012D000003;30.06.2026;anwesend;3"],
    )
    try:
        assert kpis(con)["praktikum_oder_weiterbildung"] == (2, 4)
        assert kpis(con)["weiterbildungen_12m"] == (2, None)  # both are outcomes of a window
    finally:
        con.close()


ROLES = {
    "teamleitung": Principal("t", "teamleitung"),
    "coach": Principal("c", "coach", "Anja Krüger"),
    "analyse": Principal("n", "analyse"),
    "leitung": Principal("l", "leitung"),
}


@pytest.mark.parametrize("views", [False, True])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_with_a_colleagues_coach_in_the_url(kpi_env, monkeypatch, role, views):
    """Case 9 on every page: ``?coach=Jörg Weiß`` (and gender d with it) in a bookmark. Without
    consent, or for anyone but a team lead, the coach is dropped from the selection: no
    page fails, and the Überblick shows the programme's figures, not Jörg's."""
    from conftest import run_app

    from dashboard.app import PAGES

    if views:
        monkeypatch.setenv("KOHORTE_COACH_VIEWS", "1")
    else:
        monkeypatch.delenv("KOHORTE_COACH_VIEWS", raising=False)
    principal = ROLES[role]
    at = run_app(principal, {"coach": "Jörg Weiß", "geschlecht": "d"})
    assert not at.exception and not [e.value for e in at.error]
    entries = next(m.value for m in at.metric if m.label == "Eintritte (12 Monate)")
    colleague = role == "teamleitung" and views
    # fixture: entries of gender d in the window: P5 (Anja) only; Jörg has none of them
    # (for a team lead with consent: Jörg has no participation of gender d: "–")
    assert entries == ("–" if colleague else "<3")
    for view, *_ in PAGES[1:]:
        try:
            at.switch_page(f"views/{view}.py").run()
        except Exception:  # not registered for this role: no URL reaches it
            continue
        assert not at.exception, (role, view)
        assert not [e.value for e in at.error], (role, view)


def test_a_cohort_page_that_matches_nobody_says_dash_under_each_heading(kpi_env):
    """Case 8 on Kohorten: the triangle and the funnel keep their headings and show "–" (a
    chosen cohort without a finished week has no cell either), no exception, no chart of
    nothing or of zeros."""
    from conftest import run_app

    at = run_app(Principal("tl", "teamleitung"), {"von": "2030-01-01"}, page="views/kohorten.py")
    assert not at.exception and not at.error
    headings = [h.value for h in at.subheader]
    assert "Vom Eintritt zur Integration" in headings
    assert "Integration nach Wochen seit Eintritt (kumuliert)" in headings
    assert [m.value for m in at.markdown].count("–") >= 2  # the triangle and the funnel
    assert not [c for c in at.get("vega_lite_chart") if "triangle_chart" in c.proto.id]
