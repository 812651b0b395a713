"""Exports open cleanly in German Excel and never run a formula."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from kohorte.read.disclosure import protect_table
from kohorte.read.export import Kind, Table, file_name, neutralise, to_csv, to_xlsx

FRAME = pd.DataFrame(
    {
        "coach": ['=HYPERLINK("http://x")', "+49 123", "-1+2", "@SUM(A1)", "Anja Krüger"],
        "monat": [dt.date(2026, 1, 1)] * 5,
        "quote": [0.25, 0.5, 1.0, 0.125, 0.0],
        "n": [12, 3, 4, 5, 6],
    }
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (-1, -1),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_is_german_excel_friendly_and_inert():
    data = to_csv(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "coach;monat;quote;n"
    assert lines[1].startswith("\"'=HYPERLINK")  # quoted: the value contains quotes
    assert lines[1].endswith(";01.01.2026;0,25;12")
    assert all(not line.startswith(("=", "+", "-", "@")) for line in lines)
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert back["quote"].tolist() == FRAME["quote"].tolist()
    assert back["coach"][4] == "Anja Krüger"
    assert all(v.startswith("'") for v in back["coach"][:4])


def test_xlsx_has_no_formulas_and_real_numbers():
    data = to_xlsx(FRAME)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == '\'=HYPERLINK("http://x")'
    assert rows[1][2] == 0.25 and rows[1][3] == 12
    assert rows[1][1] in (dt.date(2026, 1, 1), dt.datetime(2026, 1, 1))


def test_exports_carry_the_small_count_protection():
    counts = pd.DataFrame({"w": [12, 1], "m": [9, 8]}, index=["A", "B"])
    shown = protect_table(counts).display("<3").reset_index(names="coach")
    text = to_csv(shown).decode("utf-8-sig")
    assert "<3" in text and ";1;" not in text and ";1\r\n" not in text


def test_empty_timestamps_and_control_characters_export_as_empty_and_visible_cells():
    """What the SQL sandbox may hand on: a timestamp column with a null, and text with a
    character XLSX cannot hold (a NUL). Both export; nothing raises."""
    frame = pd.DataFrame(
        {
            "gebaut": pd.to_datetime(["2026-11-30 02:00", None]),
            "name": ["Anja\x00Krüger", "Ben"],
        }
    )
    text = to_csv(frame).decode("utf-8-sig").split("\r\n")
    assert text[1:3] == ["30.11.2026;Anja\x00Krüger", ";Ben"]
    rows = CalamineWorkbook.from_filelike(io.BytesIO(to_xlsx(frame))).get_sheet_by_index(0)
    values = rows.to_python()
    assert values[1][1] == "Anja\ufffdKrüger" and values[2][1] == "Ben"
    assert values[2][0] in ("", None)


# --- numbers with number formats, a head, dated file names ---------------------------------

AS_OF = dt.date(2026, 3, 26)
HEAD = (("Datenstand", AS_OF), ("Filter", "Standort: Salzgitter; Geschlecht: weiblich"))
KPIS = Table(
    pd.DataFrame(
        {
            "Kennzahl": ["Integrationsquote", "Eintritte", "Abbruchquote", "je Woche", "Tage"],
            # numbers as the read layer gives them; a protected value as its text
            "Wert": [0.51492, 1234, "<3", 1.8333, 77.0],
            "von": [dt.date(2025, 3, 26)] * 5,
        }
    ),
    kinds={"Wert": ["rate", "count", "rate", "ratio", "days"]},
    title="Kennzahlen",
    lines=HEAD,
)


def test_xlsx_cells_are_numbers_with_number_formats_under_a_head():
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(to_xlsx(KPIS, sheet="kennzahlen"))).active
    assert ws.title == "kennzahlen"
    # the head: title, as-of date (a real date), filters in words, a blank row
    assert (ws["A1"].value, ws["A1"].font.b) == ("Kennzahlen", True)
    assert ws["A2"].value == "Datenstand" and ws["B2"].value == dt.datetime(2026, 3, 26)
    assert ws["B2"].number_format == "DD.MM.YYYY"
    assert ws["A3"].value == "Filter"
    assert ws["B3"].value == "Standort: Salzgitter; Geschlecht: weiblich"
    assert all(cell.value is None for cell in ws[4])
    # the table: bold header, frozen under it
    assert [c.value for c in ws[5]] == ["Kennzahl", "Wert", "von"]
    assert all(c.font.b for c in ws[5]) and ws.freeze_panes == "A6"
    cells = [(ws.cell(row, 2).value, ws.cell(row, 2).number_format) for row in range(6, 11)]
    assert cells == [
        (0.515, "0.0%"),  # 51,5 % as on the card, rounded to what the screen shows
        (1234, "#,##0"),
        ("<3", "General"),  # protected: stays text
        (1.8, "#,##0.0"),
        (77, "#,##0"),  # days: a count
    ]
    assert ws["C6"].value == dt.datetime(2025, 3, 26) and ws["C6"].number_format == "DD.MM.YYYY"


def test_csv_has_the_head_above_the_table_and_german_numbers():
    text = to_csv(KPIS).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[:5] == [
        "Kennzahlen",
        "Datenstand;26.03.2026",
        # quoted: the filters' own ";" stays in one cell
        'Filter;"Standort: Salzgitter; Geschlecht: weiblich"',
        "",
        "Kennzahl;Wert;von",
    ]
    assert lines[5:10] == [
        "Integrationsquote;51,5 %;26.03.2025",  # German Excel reads it as 0,515 in percent
        "Eintritte;1234;26.03.2025",  # no thousands separator: every tool reads a number
        "Abbruchquote;<3;26.03.2025",
        "je Woche;1,8;26.03.2025",
        "Tage;77;26.03.2025",
    ]
    back = pd.read_csv(io.StringIO(text), sep=";", skiprows=4, dtype=str)
    assert back["Wert"].tolist() == ["51,5 %", "1234", "<3", "1,8", "77"]


def test_numbers_are_rounded_as_the_screen_rounds_them():
    """Babel rounds the decimal half to even (0.5155 shows as 51,6 %); so does the export,
    where Python's round(0.5155, 3) would give 0.515 (the float lies below the half)."""
    from openpyxl import load_workbook

    from kohorte.read import fmt

    frame = pd.DataFrame({"q": [0.5155, 0.0004, 1.0], "n": [2.5, 3.5, 1e6]})
    table = Table(frame, kinds={"q": "percent", "n": "count"})
    assert fmt.percent(0.5155) == "51,6 %"
    ws = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == [0.516, 0, 1]
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == [2, 4, 1000000]
    lines = to_csv(table).decode("utf-8-sig").split("\r\n")
    assert lines[1:4] == ["51,6 %;2", "0,0 %;4", "100,0 %;1000000"]


def test_whole_percent_kind_and_text_in_a_number_column():
    """The cohort triangle: shares in whole percent, a hidden cell "<3", a missing one empty."""
    from openpyxl import load_workbook

    frame = pd.DataFrame({"Kohorte": ["2026-01"], "Woche 1": [0.0], "Woche 6": ["<3"]})
    frame["Woche 12"] = [None]
    kinds = dict.fromkeys(["Woche 1", "Woche 6", "Woche 12"], Kind("percent", 0))
    table = Table(frame, kinds=kinds)
    ws = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert [(c.value, c.number_format) for c in ws[2]] == [
        ("2026-01", "General"),
        (0, "0%"),
        ("<3", "General"),
        (None, "General"),
    ]
    assert to_csv(table).decode("utf-8-sig").split("\r\n")[1] == "2026-01;0 %;<3;"


def test_the_head_is_neutralised_too():
    table = Table(pd.DataFrame({"a": [1]}), title="=1+1", lines=(("Filter", "-2+3"),))
    data = to_xlsx(table)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    lines = to_csv(table).decode("utf-8-sig").split("\r\n")
    assert lines[:2] == ["'=1+1", "Filter;'-2+3"]


def test_kinds_per_row_must_match_the_rows():
    with pytest.raises(ValueError, match="2 kinds for 1 rows"):
        to_csv(Table(pd.DataFrame({"a": [1]}), kinds={"a": ["count", "rate"]}))


@pytest.mark.parametrize(
    ("name", "as_of", "suffix", "expected"),
    [
        ("kennzahlen", dt.date(2026, 3, 26), "csv", "kennzahlen_2026-03-26.csv"),
        ("kohorten-dreieck", dt.date(2026, 11, 2), "png", "kohorten-dreieck_2026-11-02.png"),
        ("abfrage", None, "xlsx", "abfrage.xlsx"),
    ],
)
def test_file_names_carry_the_as_of_date(name, as_of, suffix, expected):
    assert file_name(name, as_of, suffix) == expected


def test_a_timestamp_keeps_its_time_in_xlsx():
    """The analysts' query may return build times: the cell is the moment, shown with it."""
    from openpyxl import load_workbook

    frame = pd.DataFrame({"gebaut": pd.to_datetime(["2026-11-30 02:00", "2026-11-29 00:00"])})
    ws = load_workbook(io.BytesIO(to_xlsx(frame))).active
    assert (ws["A2"].value, ws["A2"].number_format) == (
        dt.datetime(2026, 11, 30, 2, 0),
        "DD.MM.YYYY HH:MM",
    )
    assert ws["A3"].number_format == "DD.MM.YYYY"  # midnight: a date
