"""The dashboard's downloads as a person gets them (AppTest): numbers in number formats,
a head with title, as-of date and filters, dated file names; and the print style."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from conftest import run_app
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import app_test

from kohorte.read.access import Principal

TEAM_LEAD = Principal("tl", "teamleitung")
KPI_AS_OF = "30.06.2026"  # tests/fixtures/kpi/README.md


@pytest.fixture
def downloads(monkeypatch):
    """The files behind the download buttons of the last run: AppTest keeps them in a
    media file manager of its own for each run; this keeps a hand on it. A chart's file is
    made as a click would make it (``execute_deferred``: rendered by vl-convert)."""
    managers: list[MediaFileManager] = []

    class Kept(MediaFileManager):
        def __init__(self, storage) -> None:
            super().__init__(storage)
            self.storage = storage
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Kept)

    def files(at) -> dict[str, bytes]:
        manager, made = managers[-1], {}
        for button in at.get("download_button"):
            url = button.proto.url or manager.execute_deferred(button.proto.deferred_file_id)
            stored = manager.storage.get_file(Path(url).name)
            made[stored.filename] = stored.content
        return made

    return files


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def _rows(ws, first: int = 6) -> dict[str, tuple]:
    """Table rows under the head, by their first cell: (value, number format) per cell."""
    return {
        row[0].value: tuple((c.value, c.number_format) for c in row[1:])
        for row in ws.iter_rows(min_row=first)
    }


def test_kpi_table_downloads_numbers_with_formats_and_the_head(kpi_home, downloads):
    at = run_app(TEAM_LEAD)
    assert not at.exception
    files = downloads(at)
    assert {"kennzahlen_2026-06-30.csv", "kennzahlen_2026-06-30.xlsx"} <= set(files)
    ws = _sheet(files["kennzahlen_2026-06-30.xlsx"])
    assert (ws["A1"].value, ws["A1"].font.b) == ("Kennzahlen", True)
    assert (ws["A2"].value, ws["B2"].value) == ("Datenstand", dt.datetime(2026, 6, 30))
    assert ws["B2"].number_format == "DD.MM.YYYY"
    assert (ws["A3"].value, ws["B3"].value) == ("Filter", "keine Filter")
    assert [c.value for c in ws[5]] == ["Kennzahl", "Wert", "Zeitraum von", "Zeitraum bis"]
    assert all(c.font.b for c in ws[5])
    rows = _rows(ws)
    # by hand (tests/fixtures/kpi/README.md): entries and exits 7 each in the window
    # (30.06.2025, 30.06.2026]; attendance 7,5 of 15 sessions; median 77 days
    assert rows["Eintritte (12 Monate)"][0] == (7, "#,##0")
    assert rows["Austritte (12 Monate)"][0] == (7, "#,##0")
    assert rows["Anwesenheitsquote"][0] == (0.5, "0.0%")
    assert rows["Tage bis zur Integration (Median)"][0] == (77, "#,##0")
    # one active person (P5), one dropout (P4) of 7 exits: protected, and text
    assert rows["Aktive Teilnehmende"][0] == ("<3", "General")
    assert rows["Abbruchquote"][0] == ("<3", "General")
    window_from, window_to = rows["Eintritte (12 Monate)"][1:]
    assert window_to == (dt.datetime(2026, 6, 30), "DD.MM.YYYY")
    assert window_from[1] == "DD.MM.YYYY"
    lines = files["kennzahlen_2026-06-30.csv"].decode("utf-8-sig").split("\r\n")
    assert lines[:5] == [
        "Kennzahlen",
        f"Datenstand;{KPI_AS_OF}",
        "Filter;keine Filter",
        "",
        "Kennzahl;Wert;Zeitraum von;Zeitraum bis",
    ]
    assert "Anwesenheitsquote;50,0 %;" in "\r\n".join(lines)
    assert any(line.startswith("Aktive Teilnehmende;<3;") for line in lines)


def test_exports_name_the_filters_in_force(kpi_home, downloads):
    at = run_app(TEAM_LEAD, {"geschlecht": "m", "von": "2025-07-01"})
    files = downloads(at)
    ws = _sheet(files["kennzahlen_2026-06-30.xlsx"])
    assert ws["B3"].value == "Eintritt ab: 01.07.2025; Geschlecht: männlich"
    # three men entered in the window (P2, P4, P7)
    assert _rows(ws)["Eintritte (12 Monate)"][0] == (3, "#,##0")
    svg = files["eintritte-austritte_2026-06-30.svg"].decode()
    assert "Eintritte und Austritte je Monat" in svg
    assert f"Datenstand: {KPI_AS_OF}" in svg
    assert "Filter: Eintritt ab: 01.07.2025; Geschlecht: männlich" in svg


def test_cohort_triangle_downloads(kpi_home, downloads):
    at = run_app(TEAM_LEAD, page="views/kohorten.py")
    assert not at.exception
    files = downloads(at)
    assert {
        f"{name}_2026-06-30.{suffix}"
        for name in ("kohorten-dreieck", "trichter", "integrationsverlauf")
        for suffix in ("png", "svg")
    } | {"kohorten-dreieck_2026-06-30.csv", "kohorten-dreieck_2026-06-30.xlsx"} <= set(files)
    ws = _sheet(files["kohorten-dreieck_2026-06-30.xlsx"])
    assert ws["A1"].value == "Integration nach Wochen seit Eintritt (kumuliert)"
    assert ws["B3"].value == "keine Filter"
    assert [c.value for c in ws[5]][:2] == ["Kohorte (Eintrittsmonat)", "Woche 1"]
    january = _rows(ws)["2026-01"]
    # P1, P2, P3 entered in January: nobody integrated in weeks 1-5 (0 of 3, a share that
    # may be shown); P1 from week 6 (day 37), one person: hidden
    assert january[:5] == ((0, "0%"),) * 5
    assert january[5] == ("<3", "General")
    from PIL import Image

    png = Image.open(io.BytesIO(files["kohorten-dreieck_2026-06-30.png"]))
    assert png.width >= 2 * 12 * 46  # scale 2, each of the 12 weeks wide enough for "100 %"
    svg = files["kohorten-dreieck_2026-06-30.svg"].decode()
    assert "Integration nach Wochen seit Eintritt (kumuliert)" in svg
    assert f"Datenstand: {KPI_AS_OF}" in svg and "Filter: keine Filter" in svg


def test_chart_titles_in_english(kpi_home, downloads):
    at = run_app(TEAM_LEAD, {"lang": "en", "von": "2025-07-01"})
    svg = downloads(at)["eintritte-austritte_2026-06-30.svg"].decode()
    assert "Entries and exits per month" in svg
    assert "Data as of: 30/06/2026" in svg and "Filters: Entry from: 01/07/2025" in svg


def test_coach_table_downloads_numbers(kpi_home, downloads, monkeypatch):
    monkeypatch.setenv("KOHORTE_COACH_VIEWS", "1")
    at = run_app(TEAM_LEAD, page="views/coaches.py")
    assert not at.exception
    ws = _sheet(downloads(at)["coaches_2026-06-30.xlsx"])
    assert ws["A1"].value == "Kennzahlen je Coach"
    header = [c.value for c in ws[5]]
    rows = {
        row[0]: dict(zip(header, row, strict=True)) for row in ws.iter_rows(6, values_only=True)
    }
    # the same figures as the page (tests/test_dashboard.py): 4 and 3 entries, numbers now
    assert rows["Anja Krüger"]["Eintritte (12 Monate)"] == 4
    assert rows["Jörg Weiß"]["Eintritte (12 Monate)"] == 3
    assert rows["Anja Krüger"]["Aktive Teilnehmende"] == "<3"
    assert rows["Jörg Weiß"]["Aktive Teilnehmende"] == "*"


def test_printing_hides_the_controls(kpi_home):
    at = run_app(TEAM_LEAD)
    styles = [h.proto.body for h in at.get("html") if "@media print" in h.proto.body]
    assert len(styles) == 1  # once per run
    css = styles[0]
    for hidden in ("stDownloadButton", "stButton", "stSelectbox", "stTopNav", "stHeader"):
        assert f'[data-testid="{hidden}"]' in css
    assert "http" not in css and "@import" not in css and "url(" not in css  # nothing loaded
