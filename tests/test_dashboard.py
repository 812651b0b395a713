"""The dashboard's pages without a browser (Streamlit's AppTest)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from conftest import chart_frames, run_app
from streamlit.testing.v1 import AppTest

from kohorte.define.kpis import CATALOGUE
from kohorte.read.access import Principal

TEAM_LEAD = Principal("tl", "teamleitung")


def _run(
    query: dict | None = None, principal: Principal | None = TEAM_LEAD, page: str | None = None
) -> AppTest:
    """The app for a signed-in person (the sign-in itself is tested on its own), opened on
    ``page`` (conftest.run_app)."""
    return run_app(principal, query, page)


def _assert_ok(at: AppTest) -> None:
    """No exception, and none caught by the app's own error handler either."""
    assert not at.exception
    assert not [e.value for e in at.error]


@pytest.fixture
def sample_env(sample_settings, monkeypatch):
    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    return sample_settings


def test_overview_shows_every_kpi_in_german(sample_env):
    at = _run()
    _assert_ok(at)
    labels = [m.label for m in at.metric]
    assert labels[:4] == [
        "Aktive Teilnehmende",
        "Eintritte (12 Monate)",
        "Austritte (12 Monate)",
        "Integrationsquote",
    ]
    assert len(labels) == len(CATALOGUE)
    assert "Bewerbungen je Teilnahmewoche" in labels
    rate = next(m.value for m in at.metric if m.label == "Integrationsquote")
    assert re.fullmatch(r"\d{1,3},\d %", rate)
    # the sample starts in April 2025: the programme did not run through the whole window
    # a year earlier, so no card claims a trend against it
    assert not any(m.delta for m in at.metric)
    assert any(c.value.startswith("Datenstand: **26.03.2026**") for c in at.caption)


def test_overview_in_english(sample_env):
    at = _run({"lang": "en"})
    _assert_ok(at)
    rate = next(m for m in at.metric if m.label == "Integration rate")
    assert re.fullmatch(r"\d{1,3}\.\d%", rate.value)
    assert "Exits with an integration" in rate.help and "Austritte" not in rate.help
    assert any(c.value.startswith("Data as of: **26/03/2026**") for c in at.caption)


def test_without_data_the_page_says_what_to_do(settings):
    at = _run()
    _assert_ok(at)
    assert any("kohorte load" in info.value for info in at.info)
    assert not at.metric


def test_charts_use_the_german_locale(sample_env):
    at = _run()
    specs = [element.proto.spec for element in at.get("vega_lite_chart")]
    assert len(specs) == 2
    assert all('"decimal": ","' in spec and '"thousands": "."' in spec for spec in specs)


def test_a_new_publish_shows_without_a_restart(kpi_home):
    from conftest import KPI_LOAD_DATE, load

    settings = kpi_home  # the KPI fixture delivered and loaded in this test's home
    at = _run()
    dropout = next(m.value for m in at.metric if m.label == "Abbruchquote")
    # 1 of 7 exits (tests/fixtures/kpi/README.md): one person, so the rate is not shown
    assert dropout == "<3"
    assert any(c.value == "nicht angezeigt: weniger als 3 Fälle" for c in at.caption)
    assert next(m.value for m in at.metric if m.label == "Aktive Teilnehmende") == "<3"
    (settings.inbox / "teilnehmende_20260630_korrektur.csv").write_text(
        "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;geburtsjahr;"
        "langzeitleistungsbezug;berufsabschluss\r\n"
        "012D000004;02.02.2026;20.02.2026;krankheit;Jörg Weiß;m;1990;ja;nein\r\n"
    )
    load(settings, KPI_LOAD_DATE)
    at.run()  # the same session, as the fragment's timer or any interaction would
    _assert_ok(at)
    assert next(m.value for m in at.metric if m.label == "Abbruchquote") == "0,0 %"


def test_status_page_shows_runs_checks_and_reports(settings):
    from conftest import FIXTURES, KPI_LOAD_DATE, deliver, load

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    (settings.inbox / "anwesenheit_kaputt.csv").write_text(
        "kundennummer;datum;status;stunden\r\n012D000005;31.02.2026;anwesend;3\r\n"
        "012D000005;01.06.2026;anwesend;3\r\n"
    )
    (settings.inbox / "standort_nord").mkdir()  # reported as not read, without a report
    load(settings, KPI_LOAD_DATE)
    at = _run(page="views/datenstand.py")
    _assert_ok(at)
    # no schedule is deployed in a test's home: no next run is promised
    # (the next run with a schedule: tests/test_status_pages.py)
    assert [m.label for m in at.metric] == ["Datenstand", "Veröffentlicht"]
    assert any("kein Zeitplan aktiv" in i.value for i in at.info)
    assert at.metric[0].value == "30.06.2026"
    assert any(
        t.value.startswith("standort_nord/: Unterordner (leer): wird nicht gelesen")
        for t in at.text
    )
    [expander] = at.expander
    # Markdown characters of file names are escaped, so the name shows as it is
    assert expander.label.startswith(r"anwesenheit\_kaputt\.csv\:")
    report = expander.code[0].value
    assert "31.02.2026" in report and "datum" in report
    tables = [frame.value for frame in at.dataframe]
    checks, runs, files = tables
    assert "Prüfung" in checks.columns and len(checks) >= 8
    assert runs["Zeilen abgelehnt"].iloc[0] == "1"
    assert runs["Status"].iloc[0] == "veröffentlicht"
    assert "," in runs["Dauer (s)"].iloc[0]  # decimal comma
    assert set(checks["Schwere"]) == {"Fehler", "Warnung"}
    assert set(files["Datei"]) >= {"anwesenheit_kaputt.csv", "teilnehmende_20260630.csv"}


def test_cohort_page_sends_no_hidden_count_to_the_browser(sample_env):
    """Chart data travels to the browser in full; hidden cells must not be in it."""
    import pyarrow as pa

    at = _run({"geschlecht": "w"}, page="views/kohorten.py")
    _assert_ok(at)
    assert [s.value for s in at.subheader][:2] == [
        "Integration nach Wochen seit Eintritt (kumuliert)",
        "Vom Eintritt zur Integration",
    ]
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            # the counts behind the Kaplan-Meier curves stay on the server
            assert not {"unter_risiko", "ereignisse", "zensiert"} & set(frame.columns)
            for column in ("integriert", "teilnahmen", "anzahl", "zaehler"):
                if column in frame:
                    values = frame[column].dropna()
                    assert not ((values > 0) & (values < 3)).any(), column
            if "woche" in frame:  # the triangle: the sample's small cells are labelled
                assert "<3" in set(frame["text"])
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["Pseudonym", "Eintritt", "Austritt"]
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", table["Eintritt"].iloc[0])


def test_participant_found_by_customer_number_shows_the_timeline(kpi_home):
    from conftest import TEST_KEY

    from kohorte.define.privacy import pseudonym

    # kpi_home: the KPI fixture delivered and loaded in this test's home
    at = _run(page="views/teilnehmende.py")
    _assert_ok(at)
    assert len(at.dataframe[0].value) == 8  # the list of the selection
    at.text_input(key="find_person").input("012d000001").run()
    pid = pseudonym(TEST_KEY.encode(), "012D000001")
    assert at.query_params["pid"] in (pid, [pid])
    assert at.subheader[-1].value == f"Zeitleiste: {pid}"
    person = at.dataframe[1].value
    assert person["Eintritt"].tolist() == ["05.01.2026"]
    assert person["Termine"].tolist() == ["3"] and person["unentschuldigt"].tolist() == ["1"]
    # the number typed is not kept anywhere in the page's state shown to others
    assert "012D000001" not in str(at.query_params) and "012d000001" not in str(at.query_params)


def test_a_timeline_gives_each_kind_of_event_one_colour_in_both_languages(kpi_home):
    """Colours follow the code, not the label's alphabet: in German "Bewerbung" and in
    English "application" are the same colour, for every person."""
    import json

    from conftest import TEST_KEY

    from kohorte.define.privacy import pseudonym

    pid = pseudonym(TEST_KEY.encode(), "012D000001")
    scales = {}
    for lang in ("de", "en"):
        query = {"pid": pid} if lang == "de" else {"pid": pid, "lang": "en"}
        at = _run(query, page="views/teilnehmende.py")
        _assert_ok(at)
        [spec] = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
        [dots] = [layer for layer in spec["layer"] if "color" in layer["encoding"]]
        scales[lang] = dots["encoding"]["color"]["scale"]
        shown = dots["encoding"]["color"]["legend"]["values"]
        assert shown and set(shown) < set(scales[lang]["domain"])  # only the kinds shown
    de, en = scales["de"]["domain"], scales["en"]["domain"]
    assert de.index("Bewerbung") == en.index("application")
    assert de.index("unentschuldigt") == en.index("unexcused")
    assert scales["de"]["scheme"] == scales["en"]["scheme"]


def test_a_short_timeline_ticks_once_a_day_and_a_long_one_as_vega_chooses():
    """A participation of two days got six ticks reading "30.11.2026" (Vega ticks every
    12 hours there); up to ten days the axis ticks each day, beyond that Vega chooses."""
    from kohorte.present import charts

    labels = {
        k: k
        for k in (
            "lane_period", "anwesenheit", "aktivitaet", "ergebnis", "verbleib",
            "col_entry", "col_exit", "date", "value",
        )
    }  # fmt: skip

    def axes(days: int) -> list:
        start = pd.Timestamp("2026-11-30")
        periods = pd.DataFrame(
            {"eintritt": [start], "ende": [start + pd.Timedelta(days=days)], "lane": ["p"]}
        )
        events = pd.DataFrame({"datum": [start], "lane": ["a"], "art_label": ["x"], "wert": [3.0]})
        spec = charts.timeline(events, periods, labels, ["x"], "de").to_dict()
        return [layer["encoding"]["x"]["axis"].get("tickCount") for layer in spec["layer"]]

    assert axes(2) == [{"interval": "day", "step": 1}] * 2
    assert axes(10) == [{"interval": "day", "step": 1}] * 2
    assert axes(11) == [None, None]
    assert axes(400) == [None, None]


def test_a_chart_is_built_once_for_every_session_that_shows_it(sample_env, monkeypatch):
    """Building an Altair chart and validating its spec was half of a warm rerun: the
    second session (and every rerun) draws the kept spec; another filter builds anew."""
    from dashboard import vega
    from kohorte.present import charts

    vega._built.clear()
    calls = []
    original = charts.entries_exits
    monkeypatch.setattr(charts, "entries_exits", lambda *a: calls.append(1) or original(*a))
    first = _run()
    _assert_ok(first)
    first.run()
    second = _run()
    _assert_ok(second)
    assert len(calls) == 1
    assert first.get("vega_lite_chart")[0].proto.spec == second.get("vega_lite_chart")[0].proto.spec
    _assert_ok(_run({"geschlecht": "w"}))
    assert len(calls) == 2


def test_a_second_team_lead_is_served_from_the_first_ones_cache(sample_env, monkeypatch):
    """Results are cached by reach (role and caseload), not by the person: 50 people
    signing in after a publish compute the version once per reach, not 50 times (the load
    test's cold sign-ins). A coach has another reach and computes her own."""
    import streamlit as st

    from kohorte.read import queries

    st.cache_data.clear()
    st.cache_resource.clear()
    calls = []
    original = queries.run
    monkeypatch.setattr(queries, "run", lambda *a, **k: calls.append(a[1]) or original(*a, **k))
    _assert_ok(_run(principal=Principal("erste", "teamleitung")))
    assert calls
    calls.clear()
    _assert_ok(_run(principal=Principal("zweite", "teamleitung")))
    assert calls == []
    _assert_ok(_run(principal=Principal("c1", "coach", coach="Coach A")))
    assert calls


def test_filters_round_trip_through_the_url(sample_env):
    at = _run({"geschlecht": "w", "lzb": "ja"}, page="views/kohorten.py")
    assert at.selectbox(key="f_gender").value == "w"
    assert at.selectbox(key="f_lzb").value == "ja"
    women = len(at.dataframe[0].value)
    at.selectbox(key="f_gender").set_value("m").run()
    assert at.query_params["geschlecht"] in ("m", ["m"])
    assert at.query_params["lzb"] in ("ja", ["ja"])
    assert len(at.dataframe[0].value) != women
    at.selectbox(key="f_gender").set_value("—").run()
    assert "geschlecht" not in at.query_params


def test_malformed_filters_in_the_url_are_ignored(sample_env):
    at = _run(
        {"lzb": "vielleicht", "von": "gestern", "kohorte": "x" * 500}, page="views/kohorten.py"
    )
    _assert_ok(at)
    assert at.selectbox(key="f_lzb").value == "—"


@pytest.fixture
def kpi_env(kpi_home):
    return kpi_home  # the KPI fixture delivered and loaded in this test's home


def test_coach_page_protects_small_counts(kpi_env, monkeypatch):
    monkeypatch.setenv("KOHORTE_COACH_VIEWS", "1")
    at = _run(page="views/coaches.py")
    _assert_ok(at)
    table = at.dataframe[0].value.set_index("Coach")
    # the same KPI definitions as the cards (tests/fixtures/kpi/README.md): Anja Krüger
    # P1 P2 P5 P7, Jörg Weiß the rest; entries in the window 4 and 3 (P6 entered before)
    assert table.loc["Anja Krüger", "Eintritte (12 Monate)"] == "4"
    assert table.loc["Jörg Weiß", "Eintritte (12 Monate)"] == "3"
    # one active person (P5): hidden, and so is Jörg's 0, whose complement is that one
    assert table.loc["Anja Krüger", "Aktive Teilnehmende"] == "<3"
    assert table.loc["Jörg Weiß", "Aktive Teilnehmende"] == "*"
    # one integration of three closed windows each: hidden
    assert set(table["Integrationsquote"]) == {"<3"}


def test_coach_page_is_off_unless_switched_on(kpi_env, monkeypatch):
    monkeypatch.delenv("KOHORTE_COACH_VIEWS", raising=False)
    at = _run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/coaches.py")  # not registered: no URL reaches it


def test_cards_show_the_trend_against_a_full_baseline_year(settings):
    from conftest import deliver, load

    from kohorte.demo import Programme, write_deliveries

    files = write_deliveries(
        Programme(start=dt.date(2024, 1, 8), end=dt.date(2026, 3, 27), weekly_weeks=2),
        settings.home / "generated",
    )
    deliver(settings, *files)
    load(settings, dt.date(2026, 3, 28))
    at = _run()
    entries = next(m for m in at.metric if m.label == "Eintritte (12 Monate)")
    assert re.fullmatch(r"[+±-]\d+ ggü\. Vorjahr", entries.delta)
    rate = next(m for m in at.metric if m.label == "Integrationsquote")
    assert re.fullmatch(r"[+±-]\d+,\d Pp\. ggü\. Vorjahr", rate.delta)


def test_overview_cards_follow_the_filters_in_the_url(kpi_env):
    at = _run({"geschlecht": "m"})
    _assert_ok(at)
    entries = next(m.value for m in at.metric if m.label == "Eintritte (12 Monate)")
    assert entries == "3"  # P2, P4, P7 (tests/fixtures/kpi/README.md)
    # entries by gender w 3, m 3, d 1 of 7: d is hidden, and so is w (7 - 3 - 3 = 1)
    women = _run({"geschlecht": "w"})
    assert next(m.value for m in women.metric if m.label == "Eintritte (12 Monate)") == "*"
    # the monthly chart follows the filter too: January 2026 has 1 man (hidden) of 3
    assert _entries_in(at, "2026-01") != 3
    at.selectbox(key="f_gender").set_value("—").run()
    assert next(m.value for m in at.metric if m.label == "Eintritte (12 Monate)") == "7"
    assert _entries_in(at, "2026-01") == 3


def _entries_in(at, month: str) -> float | None:
    """Entries of one month as the entries/exits chart sends them to the browser."""
    import pyarrow as pa

    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            if {"art", "n", "monat"} <= set(frame.columns):
                row = frame[
                    (frame["art"] == "Eintritte")
                    & (pd.to_datetime(frame["monat"]).dt.strftime("%Y-%m") == month)
                ]
                return None if row.empty or pd.isna(row["n"].iloc[0]) else row["n"].iloc[0]
    raise AssertionError("no entries chart")


def test_entry_period_filter_round_trips_through_the_url(kpi_env):
    at = _run({"von": "2026-01-01", "bis": "2026-02-28"}, page="views/teilnehmende.py")
    _assert_ok(at)
    assert at.date_input(key="f_from").value == dt.date(2026, 1, 1)
    assert len(at.dataframe[0].value) == 4  # P1, P2, P3, P4
    at.date_input(key="f_to").set_value(dt.date(2026, 1, 31)).run()
    assert at.query_params["bis"] in ("2026-01-31", ["2026-01-31"])
    assert len(at.dataframe[0].value) == 3  # P4 entered in February


def test_cohorts_by_entry_week(kpi_env):
    """?raster=woche groups the triangle by ISO entry week, and a week is a cohort filter."""
    import pyarrow as pa

    at = _run({"raster": "woche"}, page="views/kohorten.py")
    _assert_ok(at)
    cohorts = set()
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            if "woche" in frame:
                cohorts |= set(frame["kohorte"])
    # the KPI fixture's weeks hold one or two entries each: every cell would read "<3", so
    # the triangle falls back to months and says so
    assert cohorts and all(re.fullmatch(r"\d{4}-\d{2}", c) for c in cohorts)
    assert [i.value for i in at.info if "nach Eintrittsmonat" in i.value]
    assert "KW 2/2026" in at.selectbox(key="f_cohort").options  # the weeks stay a filter
    at = _run({"kohorte": "2026-W02"}, page="views/kohorten.py")
    assert len(at.dataframe[0].value) == 2


def test_weekly_cohorts_where_the_weeks_are_large_enough(sample_env, monkeypatch):
    """With protection from one case up (KOHORTE_MIN_COUNT=1) no cell is withheld, and the
    triangle stays by week, its rows labelled "KW 48/2026". (At the default of 3 the
    sample's weeks, about seven entries each, fall back to months.)"""
    monkeypatch.setenv("KOHORTE_MIN_COUNT", "1")

    at = _run({"raster": "woche"}, page="views/kohorten.py")
    _assert_ok(at)
    frames = chart_frames(at)
    [triangle] = [f for f in frames if "woche" in f]
    assert all(re.fullmatch(r"\d{4}-W\d{2}", c) for c in triangle["kohorte"])
    assert all(re.fullmatch(r"KW \d{1,2}/\d{4}", n) for n in triangle["name"])
    assert not [i.value for i in at.info if "nach Eintrittsmonat" in i.value]


def test_the_cards_switch_to_the_programme_year_and_keep_it_in_the_url(kpi_env):
    """?zeitraum=programmjahr: the cards count the programme year 2026 to the as-of date
    (tests/fixtures/kpi/README.md, "Programme year"), name it and say it in their help;
    choosing "12 Monate" goes back and leaves the URL clean."""
    at = _run({"zeitraum": "programmjahr"})
    _assert_ok(at)
    entries = next(m for m in at.metric if m.label == "Eintritte (Programmjahr)")
    assert entries.value == "6"
    assert "01.01.2026 – 30.06.2026" in entries.help
    assert "Programmjahr bis Datenstand" in entries.help
    rate = next(m for m in at.metric if m.label == "Integrationsquote")
    assert "04.12.2025 – 30.06.2026" in rate.help  # windows closing from 01.01.2026
    assert "im Programmjahr bis Datenstand" in rate.help
    at.query_params.clear()  # a page from the navigation, whose links carry no query
    at.switch_page("views/kohorten.py").run()
    at.switch_page("views/ueberblick.py").run()
    _assert_ok(at)
    assert any(m.label == "Eintritte (Programmjahr)" for m in at.metric)  # the span stays
    assert at.query_params["zeitraum"] == "programmjahr"
    picker = at.segmented_control(key="zeitraum")
    assert picker.options == ["12 Monate", "Programmjahr"]
    picker.set_value("12monate").run()
    _assert_ok(at)
    assert next(m.value for m in at.metric if m.label == "Eintritte (12 Monate)") == "7"
    assert "zeitraum" not in at.query_params


def test_median_days_to_integration_card(kpi_env):
    at = _run()
    card = next(m for m in at.metric if m.label == "Tage bis zur Integration (Median)")
    assert card.value == "77 Tage"  # tests/fixtures/kpi/README.md


def test_a_withheld_cell_says_why_and_cohorts_read_as_months(sample_env):
    """The triangle's "<3" cells carry the reason in their tooltip; its rows read
    "Jan 2026", while a click still picks "2026-01"."""
    import json

    at = _run(page="views/kohorten.py")
    _assert_ok(at)
    frames = chart_frames(at)
    [triangle] = [f for f in frames if "woche" in f]
    withheld = triangle[triangle["text"] == "<3"]
    assert not withheld.empty
    assert set(withheld["hinweis"]) == {"nicht angezeigt: weniger als 3 Fälle"}
    assert set(triangle.loc[triangle["text"] != "<3", "hinweis"]) == {""}
    assert all(re.fullmatch(r"[A-ZÄÖÜ][a-zä]{2} \d{4}", n) for n in triangle["name"])
    assert all(re.fullmatch(r"\d{4}-\d{2}", k) for k in triangle["kohorte"])
    spec = next(c.proto.spec for c in at.get("vega_lite_chart") if "woche" in c.proto.spec)
    assert '"fields": ["kohorte"]' in json.dumps(json.loads(spec))  # a click gives the ISO month


def test_the_placeholder_cards_give_way_to_the_figures(sample_env):
    """On the first paint each headline card's frame holds its place with "…"; once the
    figures are there, each card is shown once, with its value, and no "…" is left."""
    at = _run()
    _assert_ok(at)
    headline = [k.label("de") for k in CATALOGUE if k.section == "kern"]
    labels = [m.label for m in at.metric]
    assert all(labels.count(label) == 1 for label in headline), labels
    assert not [m for m in at.metric if m.value == "…"]
    at.run()  # a later run draws no placeholders
    assert [m.label for m in at.metric] == labels
