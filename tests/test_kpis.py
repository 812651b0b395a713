"""Every headline KPI against the hand-computed fixture (tests/fixtures/kpi/README.md)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kohorte.build import warehouse
from kohorte.define import periods
from kohorte.define.kpis import BY_ID, CATALOGUE, read_kpis

EXPECTED = {
    # kennzahl: (numerator, denominator or None)
    "aktive_teilnehmende": (1, None),
    "eintritte_12m": (7, None),
    "austritte_12m": (7, None),
    "integrationsquote": (2, 6),
    "in_arbeit_seit_start": (3, 8),
    # programme year 2026 (January to 30.06.): first integrations P1 11.02., P3 30.03.,
    # P8 22.06.2026
    "in_arbeit_programmjahr": (3, None),
    # exits whose next day lies in 01.01.-30.06.2026: P1, P2, P3, P4, P8; only P1's job
    # (11.02.) starts by the day after leaving (10.02.): P3 30.03. and P8 22.06. are later
    "arbeit_in_8_wochen": (1, 5),
    "anwesenheitsquote": (7.5, 15),
    "abbruchquote": (1, 7),
    "verbleibsquote_6m": (1, 2),
    # ESF upon leaving, closed windows P1 P2 P3 P4 P6 P7; the last outcome is a job for
    # P1 (svb), P2 (mini-job), P7 (subsidised); P3's apprenticeship is training, not a job
    "beschaeftigt_bei_austritt": (3, 6),
    # P1 svb 11.02.2026, P3 ausbildung 30.03.2026, P8 svb 22.06.2026: three person-months
    "integrationen_k2": (3, None),
    "minijobs_12m": (1, None),  # P2, 05.03.2026
    "gefoerderte_12m": (1, None),  # P7, 15.09.2025
    "praktika_12m": (0, None),
    "weiterbildungen_12m": (0, None),
    # P1's 3 applications over 5 sessions of known participations = 5/3 weeks
    "bewerbungen_je_woche": (3, 5 / 3),
    "vorstellungsgespraeche_je_woche": (1, 5 / 3),  # P1 on 20.01.2026
    # P5's 2 contacts count; P6's 4 on 01.01.2026 lie outside her participation
    "arbeitgeberkontakte_je_woche": (2, 5 / 3),
    # Kaplan-Meier median over the 7 entries in the window; README has the table
    "tage_bis_integration": (77, 7),
    "unentschuldigt_quote": (1, 5),  # P1 on 08.01.2026
    # no internship or further training in the fixture: 0 of the 7 exits
    "praktikum_oder_weiterbildung": (0, 7),
}


@pytest.fixture(scope="module")
def kpis(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        yield {v.kpi.id: v for v in read_kpis(con)}
    finally:
        con.close()


def test_expected_covers_the_whole_catalogue():
    assert set(EXPECTED) == {k.id for k in CATALOGUE}


@pytest.mark.parametrize("kpi_id", list(EXPECTED))
def test_kpi_matches_hand_computation(kpis, kpi_id):
    numerator, denominator = EXPECTED[kpi_id]
    value = kpis[kpi_id]
    assert value.numerator == pytest.approx(numerator, abs=1e-3)
    assert value.denominator == (
        None if denominator is None else pytest.approx(denominator, abs=1e-3)
    )
    if BY_ID[kpi_id].unit in ("rate", "ratio"):
        assert value.value == pytest.approx(numerator / denominator, abs=1e-4)
    else:
        assert value.value == pytest.approx(numerator)


def test_windows_end_at_the_as_of_date(kpis):
    """(30.06.2025, 30.06.2026]: the cards say 01.07.2025 – 30.06.2026; a rate counted by the
    close of the 28-day window from the first exit whose window closes in it."""
    assert {v.window_end for v in kpis.values()} == {dt.date(2026, 6, 30)}
    assert kpis["eintritte_12m"].window_start == dt.date(2025, 7, 1)
    assert kpis["integrationsquote"].window_start == dt.date(2025, 6, 3)  # + 28 = 01.07.


# The programme year 2026 to the as-of date, 01.01. to 30.06.2026 (README: "Programme
# year"), where it differs from the 12 months
EXPECTED_PROGRAMME_YEAR = {
    **EXPECTED,
    "eintritte_12m": (6, None),  # P1 P2 P3 P4 P5 P8; P6 and P7 entered in 2025
    "austritte_12m": (5, None),  # P1 P2 P3 P4 P8
    # 28-day windows closing in 2026: P1 P2 P3 P4 (P8's is open); P1 and P3 integrated
    "integrationsquote": (2, 4),
    "beschaeftigt_bei_austritt": (2, 4),  # P1 svb, P2 mini-job
    "abbruchquote": (1, 5),
    "gefoerderte_12m": (0, None),  # P7's job began 15.09.2025
    "praktikum_oder_weiterbildung": (0, 5),
    # Kaplan-Meier over the 6 entries of 2026: 21 event (P8), 37 event (P1), 46 and 57
    # censored (P4, P5), 77 event (P3), 83 censored (P2): S = 5/6, 2/3, then 2/3 x 1/2 = 1/3
    "tage_bis_integration": (77, 6),
}


def test_the_programme_year_view_matches_hand_computation(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        shown = {v.kpi.id: v for v in read_kpis(con, periods.PROGRAMME_YEAR)}
    finally:
        con.close()
    rounded = {  # 5/3 participant-weeks as 1.667
        kpi: tuple(None if n is None else round(n, 3) for n in (v.numerator, v.denominator))
        for kpi, v in shown.items()
    }
    assert rounded == {
        kpi: tuple(None if n is None else round(n, 3) for n in pair)
        for kpi, pair in EXPECTED_PROGRAMME_YEAR.items()
    }
    assert shown["eintritte_12m"].window_start == dt.date(2026, 1, 1)
    assert shown["integrationsquote"].window_start == dt.date(2025, 12, 4)  # + 28 = 01.01.
    assert {v.window_end for v in shown.values()} == {dt.date(2026, 6, 30)}


def test_participation_mart_flags(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    rows = con.execute(
        """select geburtsjahr, integriert_waehrend, integriert_bis_28_tage,
                  integrationsfenster_geschlossen, verbleib_status, aktiv, termine,
                  stunden_anwesend
           from marts.teilnahmen order by eintritt, geburtsjahr"""
    ).fetchall()
    con.close()
    by_year = {row[0]: row[1:] for row in rows}
    # P1 (1980): job the day after leaving counts as found "during" the 8 weeks
    assert by_year[1980][:3] == (True, True, True)
    assert by_year[1980][5:] == (3, 4.5)
    # P3 (1999): apprenticeship 22 days after exit: within 28 days, not during
    assert by_year[1999][:2] == (False, True)
    # P6 (1970): the follow-up nearest to six months wins over an earlier one
    assert by_year[1970][3] == "svb_beschaeftigt"
    # P8 (1995): job three days after leaving; integrated, but the window is still open
    assert by_year[1995][:3] == (False, True, False)
    # P5 (2001): still active
    assert by_year[2001][4] is True


def test_monthly_figures(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    rows = dict(
        con.execute("select strftime(monat, '%Y-%m'), eintritte from marts.monatszahlen").fetchall()
    )
    exits = dict(
        con.execute("select strftime(monat, '%Y-%m'), austritte from marts.monatszahlen").fetchall()
    )
    con.close()
    assert rows["2026-01"] == 3 and rows["2026-02"] == 1 and rows["2026-06"] == 1
    assert exits["2026-02"] == 2 and exits["2026-03"] == 2


def test_orphan_attendance_is_a_warning_not_a_failure(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    checks = {
        name: (severity, failing)
        for name, severity, failing in con.execute(
            "select name, severity, failing_rows from meta.checks"
        ).fetchall()
    }
    con.close()
    assert checks["assert_attendance_belongs_to_participation"] == ("warn", 1)
    assert all(failing == 0 for severity, failing in checks.values() if severity == "error")


def test_time_to_integration_curve_censors_instead_of_failing(kpi_settings):
    """Hand-computed Kaplan-Meier over the eight participations of the fixture:

    day 21 event (P8), 37 event (P1), 46 censored (P4: exit + 28), 57 censored (P5: active
    on the as-of date), 77 event (P3), 81 censored twice (P6, P7), 83 censored (P2).
    S(21) = 7/8, S(37) = 7/8 * 6/7 = 3/4, S(77) = 3/4 * 3/4 = 9/16.
    """
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    rows = con.execute(
        """select tage, unter_risiko, ereignisse, zensiert, anteil_integriert
           from marts.integrationsverlauf where kohorte = 'gesamt' order by tage"""
    ).fetchall()
    con.close()
    curve = {
        day: (at_risk, events, censored, share) for day, at_risk, events, censored, share in rows
    }
    assert sorted(curve) == [21, 37, 46, 57, 77, 81, 83]
    assert curve[21][:3] == (8, 1, 0) and curve[21][3] == pytest.approx(1 / 8)
    assert curve[37][:3] == (7, 1, 0) and curve[37][3] == pytest.approx(1 / 4)
    assert curve[46][:3] == (6, 0, 1) and curve[46][3] == pytest.approx(1 / 4)
    assert curve[77][:3] == (4, 1, 0) and curve[77][3] == pytest.approx(1 - 9 / 16)
    assert curve[81][:3] == (3, 0, 2)
    assert curve[83][3] == pytest.approx(7 / 16)
    # the naive share (3 integrated of 8) would understate it: censoring matters
    assert curve[83][3] > 3 / 8


def test_previous_year_baseline_uses_the_same_windows_a_year_earlier(kpi_settings):
    """Reference date 30.06.2025, window (30.06.2024, 30.06.2025]: only P6 (entered
    02.06.2025, left 25.07.2025) falls into it."""
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    rows = con.execute(
        """select kennzahl, zaehler, nenner, quote, fenster_bis
           from marts.kennzahlen where periode = 'vorjahr'"""
    ).fetchall()
    con.close()
    baseline = {kennzahl: rest for kennzahl, *rest in rows}
    assert {row[3] for row in baseline.values()} == {dt.date(2025, 6, 30)}
    assert baseline["aktive_teilnehmende"][0] == 1
    assert baseline["eintritte_12m"][0] == 1
    assert baseline["austritte_12m"][0] == 0
    assert baseline["integrationsquote"][1:3] == [0, None]  # no closed window: no rate
    assert baseline["in_arbeit_seit_start"][:2] == [0, 1]
    # P6 alone, censored after 28 days: the median is not reached, one observed
    assert baseline["tage_bis_integration"][:3] == [None, 1, None]


def _monthly_rates(settings, filters):
    from kohorte.read import queries

    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        frame = queries.run(con, "ueberblick__monatsquoten", filters, start=dt.date(2025, 1, 1))
    finally:
        con.close()
    return {(row.kennzahl, row.monat.strftime("%Y-%m")): row for row in frame.itertuples()}


def test_monthly_rates_with_baseline_and_provisional_months(kpi_settings):
    """Exits in February 2026: P1 (integrated the next day) and P4 (dropout), both 28-day
    windows closed by 30.06.2026, their 6-month follow-ups not yet due. June 2026: P8, whose
    window is still open, in the running month."""
    from kohorte.define.dimensions import Filters

    rates = _monthly_rates(kpi_settings, Filters())
    february = rates[("integrationsquote", "2026-02")]
    assert (february.zaehler, february.nenner, february.vorlaeufig) == (1, 2, False)
    # February 2025 lies before the programme started: no baseline at all
    assert february.vorjahr_nenner != february.vorjahr_nenner  # NaN
    assert rates[("abbruchquote", "2026-02")].zaehler == 1
    assert rates[("verbleibsquote_6m", "2026-02")].vorlaeufig  # follow-up due in August
    june = rates[("integrationsquote", "2026-06")]
    assert (june.zaehler, june.nenner, june.vorlaeufig) == (1, 1, True)
    # P6 left in July 2025 and was employed at the follow-up in January 2026: final
    july = rates[("verbleibsquote_6m", "2025-07")]
    assert (july.zaehler, july.nenner, july.vorlaeufig) == (1, 1, False)
    # January 2026 sessions of known participations: P1's three (one unexcused)
    january = rates[("unentschuldigt_quote", "2026-01")]
    assert (january.zaehler, january.nenner) == (1, 3)
    # June 2025 is the baseline of June 2026: the programme ran, nobody left
    assert (june.vorjahr_zaehler, june.vorjahr_nenner) == (0, 0)


def test_monthly_figures_follow_the_filters(kpi_settings):
    from kohorte.define.dimensions import Filters

    rates = _monthly_rates(kpi_settings, Filters(coach="Jörg Weiß"))
    february = rates[("integrationsquote", "2026-02")]  # P4 only
    assert (february.zaehler, february.nenner) == (0, 1)
    assert rates[("unentschuldigt_quote", "2026-01")].nenner == 0  # P1 is Anja Krüger's


def test_cohort_triangle_by_hand(kpi_settings):
    """Cohort 2026-01 is P1, P2 and P3 (README). P1's first integration came 37 days after
    entry (week 6: 37 < 42), P3's 77 days after (week 12: 77 < 84, not week 11: 77 = 77);
    P2's mini-job is none. The last entry (12.01.) plus 12 weeks is before 30.06.: complete."""
    from kohorte.define.dimensions import Filters
    from kohorte.read import queries

    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    frame = queries.run(con, "kohorten__dreieck", Filters(), raster="monat")
    con.close()
    january = frame[frame["kohorte"] == "2026-01"].set_index("woche")
    assert list(january.index) == list(range(1, 13))
    assert (january["teilnahmen"] == 3).all()
    integrated = january["integriert"].to_dict()
    assert [integrated[w] for w in (1, 5, 6, 11, 12)] == [0, 0, 1, 1, 2]
    june = frame[frame["kohorte"] == "2026-06"]  # P8 entered 01.06.: only 4 weeks passed
    assert list(june["woche"]) == [1, 2, 3, 4]


def test_a_session_in_two_overlapping_participations_counts_once(settings):
    """A re-entry that overlaps the earlier participation (coach B takes over before coach A
    has closed the case): the next entry ends A's window the day before (marts.fenster), so
    a session on a day both cover belongs to B alone, and the coaches add up to the whole."""
    from conftest import load

    from kohorte.define.dimensions import Filters
    from kohorte.read import queries

    (settings.inbox / "teilnehmende_20260331.csv").write_text(
        "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;geburtsjahr;"
        "langzeitleistungsbezug;berufsabschluss\n"
        "012D000001;05.01.2026;20.02.2026;regulaer;Coach A;w;1980;ja;nein\n"
        "012D000001;01.02.2026;;;Coach B;w;1980;ja;nein\n",
        encoding="utf-8",
    )
    (settings.inbox / "anwesenheit_20260331.csv").write_text(
        "kundennummer;datum;status;stunden\n"
        "012D000001;12.01.2026;anwesend;3\n"  # A only
        "012D000001;10.02.2026;unentschuldigt;0\n"  # A and B
        "012D000001;10.03.2026;anwesend;3\n",  # B only
        encoding="utf-8",
    )
    assert load(settings, dt.date(2026, 3, 31))["status"] == "published"
    con = warehouse.connect_readonly(warehouse.current_path(settings))

    def sessions(filters: Filters) -> dict[str, int]:
        frame = queries.run(con, "ueberblick__monatsquoten", filters, start=dt.date(2026, 1, 1))
        rows = frame[frame["kennzahl"] == "unentschuldigt_quote"]
        return {str(r.monat)[:7]: int(r.nenner) for r in rows.itertuples() if r.nenner}

    def kpi(filters: Filters, name: str) -> tuple[float, float]:
        frame = queries.run(con, "ueberblick__kennzahlen", filters).set_index("kennzahl")
        return float(frame.loc[name, "zaehler"]), float(frame.loc[name, "nenner"])

    try:
        assert sessions(Filters()) == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
        assert sessions(Filters(coach="Coach A")) == {"2026-01": 1}
        assert sessions(Filters(coach="Coach B")) == {"2026-02": 1, "2026-03": 1}
        assert kpi(Filters(), "unentschuldigt_quote") == (1, 3)
        assert kpi(Filters(coach="Coach A"), "unentschuldigt_quote") == (0, 1)
        assert kpi(Filters(coach="Coach B"), "unentschuldigt_quote") == (1, 2)
        assert kpi(Filters(coach="Coach B"), "anwesenheitsquote") == (3, 6)
    finally:
        con.close()


def test_the_programme_year_starts_in_the_configured_month(kpi_home):
    """Programme years from July: 01.07.2025 to 30.06.2026 holds the exits of P6 (25.07.)
    and P7 (29.08.2025) too, and no further first integration (P7's job is subsidised)."""
    import dataclasses

    from conftest import KPI_LOAD_DATE, load

    july = dataclasses.replace(kpi_home, programme_year_month=7)
    assert load(july, KPI_LOAD_DATE)["status"] == "published"
    con = warehouse.connect_readonly(warehouse.current_path(july))
    try:
        shown = {v.kpi.id: v for v in read_kpis(con)}
    finally:
        con.close()
    assert (shown["in_arbeit_programmjahr"].numerator, shown["arbeit_in_8_wochen"].numerator) == (
        3,
        1,
    )
    assert shown["arbeit_in_8_wochen"].denominator == 7
    assert shown["arbeit_in_8_wochen"].window_start == dt.date(2025, 7, 1)


def test_programme_year_start_month_is_checked(monkeypatch):
    from kohorte.config import load_settings

    monkeypatch.setenv("KOHORTE_PROGRAMME_YEAR_START", "13")
    with pytest.raises(ValueError, match="ein Monat von 1 bis 12"):
        load_settings()


def _span_rows(settings, von: dt.date, bis: dt.date) -> dict[str, dict]:
    from kohorte.read import queries

    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        frame = queries.run(con, "ueberblick__kennzahlen", span=(von, bis))
    finally:
        con.close()
    frame = frame.assign(
        fenster_von=frame["fenster_von"].dt.date, fenster_bis=frame["fenster_bis"].dt.date
    )
    return {row["kennzahl"]: row for row in frame.to_dict("records")}


@pytest.mark.parametrize(
    ("period", "von"),
    [(periods.ROLLING, dt.date(2025, 7, 1)), (periods.PROGRAMME_YEAR, dt.date(2026, 1, 1))],
)
def test_a_span_that_is_a_stored_period_gives_its_figures(kpi_settings, period, von):
    """A month's report computes its span with the same macro as the stored periods: the
    span of the 12 months (or the programme year) to the as-of date 30.06.2026 is that
    period, figure by figure, baseline included."""
    from kohorte.read import queries

    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        spanned = queries.run(con, "ueberblick__kennzahlen", span=(von, dt.date(2026, 6, 30)))
        stored = queries.run(con, "ueberblick__kennzahlen", **period.params())
    finally:
        con.close()
    assert len(spanned) == len(CATALOGUE)
    assert set(spanned["periode"]) == {periods.SPAN.current}
    pd.testing.assert_frame_equal(spanned.drop(columns="periode"), stored.drop(columns="periode"))


def test_calendar_months_by_hand(kpi_settings):
    """January 2026: P1, P2 (05.01.) and P3 (12.01.) enter, nobody leaves, all three are
    active on 31.01.; P1's interview on 20.01. February: P1 (10.02.) and P4 (20.02.,
    dropout) leave. The same months of 2025 saw nobody."""
    january = _span_rows(kpi_settings, dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert january["eintritte_12m"]["zaehler"] == 3
    assert january["austritte_12m"]["zaehler"] == 0
    assert january["aktive_teilnehmende"]["zaehler"] == 1 + 1 + 1
    assert january["vorstellungsgespraeche_je_woche"]["zaehler"] == 1
    assert january["eintritte_12m"]["vorjahr_zaehler"] == 0
    assert january["eintritte_12m"]["fenster_von"] == dt.date(2026, 1, 1)
    assert january["eintritte_12m"]["fenster_bis"] == dt.date(2026, 1, 31)
    february = _span_rows(kpi_settings, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert february["austritte_12m"]["zaehler"] == 2
    assert (february["abbruchquote"]["zaehler"], february["abbruchquote"]["nenner"]) == (1, 2)


def test_a_span_ends_at_the_as_of_date(kpi_settings):
    """Nothing after the as-of date (30.06.2026) is known: a span to the year's end is cut
    there, and so is its baseline a year earlier."""
    rows = _span_rows(kpi_settings, dt.date(2026, 6, 1), dt.date(2026, 12, 31))
    assert {row["fenster_bis"] for row in rows.values()} == {dt.date(2026, 6, 30)}
    assert rows["eintritte_12m"]["zaehler"] == 1  # P8, 01.06.2026
    assert rows["aktive_teilnehmende"]["zaehler"] == 1  # P5 on 30.06.
    assert rows["eintritte_12m"]["vorjahr_zaehler"] == 1  # P6, 02.06.2025
