"""The status page, the team lead's notice of a rejected delivery, and the audit log tell
the truth: the next run only with a schedule, checks in words, times in Berlin."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from conftest import KPI_LOAD_DATE, load, run_app
from streamlit.testing.v1 import AppTest

from kohorte.build import warehouse
from kohorte.ops import alerts, audit
from kohorte.read.access import Principal
from kohorte.store.db import SQL, sql_files

TEAM_LEAD = Principal("tl", "teamleitung")
MANAGEMENT = Principal("chef", "leitung")
BERLIN_TIME = re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}")


def _status_page(query: dict | None = None, principal: Principal = TEAM_LEAD) -> AppTest:
    at = run_app(principal, query, page="views/datenstand.py")
    assert not at.exception and not at.error
    return at


@pytest.fixture
def no_schedule(monkeypatch):
    monkeypatch.delenv("KOHORTE_EXPECT_NIGHTLY", raising=False)


# --- the next run ---------------------------------------------------------------------------


def test_without_a_schedule_the_status_page_names_no_next_run(kpi_home, no_schedule):
    at = _status_page()
    assert [m.label for m in at.metric] == ["Datenstand", "Veröffentlicht"]
    [info] = [i.value for i in at.info if "Zeitplan" in i.value]
    assert "kein Zeitplan aktiv, `make serve` startet ihn" in info


@pytest.mark.parametrize("how", ["kohorte serve", "KOHORTE_EXPECT_NIGHTLY"])
def test_with_a_deployed_schedule_the_status_page_shows_the_next_run(
    kpi_home, no_schedule, monkeypatch, how
):
    if how == "kohorte serve":
        alerts.mark_scheduled(kpi_home)  # what the service writes once it has deployed
    else:
        monkeypatch.setenv("KOHORTE_EXPECT_NIGHTLY", "true")
    at = _status_page()
    assert [m.label for m in at.metric][-1] == "Nächster nächtlicher Lauf"
    assert at.metric[-1].value.endswith(", 02:00")  # prefect.yaml: 02:00 Berlin time
    assert not [i for i in at.info if "Zeitplan" in i.value]


def test_a_schedule_switched_off_shows_no_next_run(kpi_home, monkeypatch):
    alerts.mark_scheduled(kpi_home)
    monkeypatch.setenv("KOHORTE_EXPECT_NIGHTLY", "false")  # the alerts' rule: no nights
    at = _status_page()
    assert "Nächster nächtlicher Lauf" not in [m.label for m in at.metric]


# --- checks in words -----------------------------------------------------------------------


def test_every_check_is_described_in_german_and_english():
    described = warehouse.check_descriptions()
    assert set(described) == set(sql_files(SQL / "checks"))
    for name, words in described.items():
        assert set(words) == {"de", "en"}, name
        assert all(words.values()) and "assert_" not in words["de"], name
    assert described["assert_unique_teilnahmen"] == {
        "de": "Jede Teilnahme kommt genau einmal vor",
        "en": "Every participation appears exactly once",
    }


def test_the_check_table_names_each_check_in_words(kpi_home):
    checks = _status_page().dataframe[0].value
    assert "Jede Teilnahme kommt genau einmal vor" in set(checks["Prüfung"])
    assert "Keine Tabelle enthält eine Kundennummer" in set(checks["Prüfung"])
    assert not checks["Prüfung"].str.contains("assert_").any()


# --- the notice of a rejected delivery ----------------------------------------------------


@pytest.fixture
def broken_night(kpi_home):
    """A second load with one file that is only partly loaded (an impossible date)."""
    (kpi_home.inbox / "anwesenheit_kaputt.csv").write_text(
        "kundennummer;datum;status;stunden\r\n012D000005;31.02.2026;anwesend;3\r\n"
        "012D000005;01.06.2026;anwesend;3\r\n"
    )
    run = load(kpi_home, KPI_LOAD_DATE)
    assert run["files_partial"] == 1
    return kpi_home


def test_the_load_log_says_how_each_night_built_the_warehouse(broken_night):
    """The first night builds everything, the second only what it brought."""
    at = _status_page()
    runs = next(f.value for f in at.dataframe if "Aufbau" in f.value.columns)
    assert list(runs["Aufbau"]) == ["nur Neues", "vollständig"]  # newest first
    english = _status_page({"lang": "en"})
    runs = next(f.value for f in english.dataframe if "Build" in f.value.columns)
    assert list(runs["Build"]) == ["incremental", "full"]


def test_a_version_published_before_build_modes_still_shows_its_load_log(kpi_home):
    """After an upgrade the dashboard reads the old version until the next night: its load
    log has no build mode, and the page shows the runs without one, not an error."""
    import duckdb

    path = warehouse.current_path(kpi_home)
    path.chmod(0o644)
    con = duckdb.connect(str(path))
    con.execute("alter table meta.load_log drop column build_mode")
    con.close()
    at = _status_page()
    runs = next(f.value for f in at.dataframe if "Aufbau" in f.value.columns)
    assert list(runs["Aufbau"]) == [""]  # one run, and no build mode to name


def _notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("Letzte Ladung")]


def test_the_team_lead_sees_a_rejected_delivery_on_the_overview(broken_night):
    at = run_app(TEAM_LEAD)
    assert not at.exception
    [notice] = _notices(at)
    assert "1 Lieferung abgelehnt oder nur teilweise geladen" in notice
    assert BERLIN_TIME.search(notice)
    [link] = at.get("page_link")
    assert link.proto.label.startswith(r"anwesenheit\_kaputt\.csv (teilweise geladen)")
    assert link.proto.page == "datenstand"
    [delivery] = re.findall(r"bericht=(\S+)", link.proto.query_string)
    # the link opens that report on the status page
    at = _status_page({"bericht": delivery})
    [report] = at.expander
    assert report.label.startswith(r"anwesenheit\_kaputt\.csv") and report.proto.expanded
    assert not _status_page().expander[0].proto.expanded


def test_management_and_a_clean_night_get_no_notice(broken_night):
    at = run_app(MANAGEMENT)
    assert not at.exception and at.metric
    assert not _notices(at) and not at.get("page_link")
    load(broken_night, KPI_LOAD_DATE)  # nothing new: the latest load rejected nothing
    at = run_app(TEAM_LEAD)
    assert not at.exception and not _notices(at)


# --- the audit log ------------------------------------------------------------------------


def test_entries_of_the_same_millisecond_are_listed_last_written_first(kpi_home, monkeypatch):
    """The log keeps milliseconds: entries written within one are newest first in the
    order written, not in whatever order an unstable sort leaves them."""
    import datetime as dt

    moment = dt.datetime(2026, 6, 30, 8, 0, 0, 123000, tzinfo=dt.UTC)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return moment

    monkeypatch.setattr(audit.dt, "datetime", Frozen)
    for n in range(12):
        audit.record(kpi_home, f"person-{n}", "coach", audit.VIEW_PARTICIPANT)
    assert list(audit.read(kpi_home)["benutzer"]) == [f"person-{n}" for n in reversed(range(12))]


def test_the_audit_log_speaks_german_in_berlin_time(kpi_home):
    audit.record(kpi_home, "anja", "coach", audit.VIEW_PARTICIPANT, pseudonym="ab12cd34ef56ab78")
    audit.record(
        kpi_home, "tl", "teamleitung", audit.EXPORT, datei="kennzahlen.csv", seite={"coach": "X"}
    )
    at = run_app(TEAM_LEAD, page="views/protokoll.py")
    assert not at.exception
    log = at.dataframe[0].value
    assert list(log["Aktion"]) == ["Daten heruntergeladen", "Teilnehmende angesehen"]
    assert list(log["Details"]) == [
        "Datei: kennzahlen.csv · Auswahl: coach=X",
        "Pseudonym: ab12cd34ef56ab78",
    ]
    assert list(log["Rolle"]) == ["Teamleitung", "Coach"]
    recorded = audit.read(kpi_home)["zeit"].dt.tz_convert("Europe/Berlin")
    assert list(log["Zeit"]) == [f"{t:%d.%m.%Y, %H:%M}" for t in recorded]
    assert all(BERLIN_TIME.fullmatch(value) for value in log["Zeit"])
    # the filters in German, by action in words and by person
    actions = at.multiselect(key="a_action")
    assert actions.label == "Aktion" and actions.placeholder == "alle Aktionen"
    assert "Teilnehmende angesehen" in actions.options
    assert at.multiselect(key="a_user").placeholder == "alle Benutzer"
    actions.select(audit.VIEW_PARTICIPANT).run()
    assert list(at.dataframe[0].value["Benutzer"]) == ["anja"]
    at.multiselect(key="a_action").unselect(audit.VIEW_PARTICIPANT).run()
    at.multiselect(key="a_user").select("tl").run()
    assert list(at.dataframe[0].value["Aktion"]) == ["Daten heruntergeladen"]


def test_every_action_has_words_in_both_languages():
    assert set(audit.ACTION_LABELS) == set(audit.ACTIONS)
    assert all(de and en for de, en in audit.ACTION_LABELS.values())
    assert audit.action_label(audit.VIEW_PARTICIPANT) == "Teilnehmende angesehen"
    assert audit.action_label(audit.VIEW_PARTICIPANT, "en") == "Participant viewed"


@pytest.mark.parametrize(
    ("details", "lang", "text"),
    [
        (
            {"seite": "Überblick", "datei": "kennzahlen.csv"},
            "de",
            "Seite: Überblick · Datei: kennzahlen.csv",
        ),
        ('{"abfrage": "select 1", "zeilen": 1234}', "de", "Abfrage: select 1 · Zeilen: 1.234"),
        ({"via": "lokal"}, "de", "Anmeldung über: lokales Konto"),
        ({"grund": "x", "neu": "y", "seite": None}, "en", "Reason: x · neu: y"),
        ("{}", "de", ""),
    ],
)
def test_details_read_as_words(details, lang, text):
    assert audit.details_text(details, lang) == text


def test_audit_times_are_berlin_times_whatever_the_servers_date():
    entries = pd.DataFrame(
        {
            "zeit": pd.to_datetime(["2026-01-15T23:30:00Z", "2026-07-15T23:30:00Z"], utc=True),
            "benutzer": ["a", "b"],
            "rolle": ["coach", "coach"],
            "aktion": [audit.SIGN_IN, audit.SIGN_OUT],
            "details": ["{}", "{}"],
        }
    )
    shown = audit.readable(entries)
    assert list(shown["zeit"]) == ["16.01.2026, 00:30", "16.07.2026, 01:30"]  # CET, CEST
    assert list(shown["aktion"]) == ["Angemeldet", "Abgemeldet"]
    # Berlin's 16 January holds the entry of 23:30 UTC on the 15th
    day = dt.date(2026, 1, 16)
    assert list(audit.select(entries, day, day)["benutzer"]) == ["a"]
