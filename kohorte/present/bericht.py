"""The monthly report (Monatsbericht) and the balance of a programme year or any span
(Jahresbilanz) as PDF/A-2b, for the Geschäftsführung: the figures of ``kohorte kpis`` for
that span, protected by the read layer as everywhere, drawn with the dashboard's chart
builders (``kohorte.present.charts``) as vector graphics, set with Typst.

Typst (the Python binding ``typst``) rather than WeasyPrint: one wheel without system
libraries (WeasyPrint needs Pango, HarfBuzz and their fonts), it compiles offline in
milliseconds, and it writes PDF/A-2b itself: asked for ``a-2b``, it embeds every font,
writes the XMP identification and an sRGB output intent, and refuses with an error to
write anything the standard forbids, instead of producing a file that only looks right.

Everything a page shows is a string made here with ``kohorte.read.fmt``, so the PDF and
the dashboard format alike (1.234, 48,3 %, 30.11.2026); the Typst template
(``bericht.typ``) only lays them out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from kohorte import __version__
from kohorte.config import Settings
from kohorte.define import periods
from kohorte.define.targets import programme_year
from kohorte.present import charts
from kohorte.read import cards, cohorts, fmt, queries
from kohorte.read.targets import progress

LANG = "de"  # a report for the board and the Regionaldirektion: German
TREND_MONTHS = 12
TRIANGLE_COHORTS = 12  # entry months in the report's triangle
TRIANGLE_WEEKS = 12  # weeks since entry: the eight weeks of a participation and after
CURVE_COHORTS = 6
MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
)  # fmt: skip


class NoData(ValueError):
    """The span asked for has no data to report: a German sentence saying why."""


@dataclass(frozen=True)
class Span:
    """What a report covers: a calendar month (with its 12-month trend) or any span of
    days, each against the same days a year earlier."""

    von: dt.date
    bis: dt.date
    monthly: bool

    @property
    def title(self) -> str:
        if self.monthly:
            return f"Monatsbericht {MONTHS[self.von.month - 1]} {self.von.year}"
        return f"Bilanz {fmt.date(self.von)} – {fmt.date(self.bis)}"

    @property
    def stem(self) -> str:
        if self.monthly:
            return f"monatsbericht-{self.von:%Y-%m}"
        return f"bilanz-{self.von:%Y-%m-%d}-bis-{self.bis:%Y-%m-%d}"

    def file_name(self, as_of: dt.date, run_id: str) -> str:
        """The kept report's name: its span, the as-of date and the warehouse version it
        was made from (``monatsbericht-2026-11_stand-2026-12-03_20261204T060012Z.pdf``).
        Like a warehouse version it is never replaced by other figures: the same span
        from a later build is another file, and the one mailed to the board stays."""
        return f"{self.stem}_stand-{as_of:%Y-%m-%d}_{run_id[:15]}Z.pdf"


KEPT_NAME = re.compile(
    r"(monatsbericht-(?P<month>\d{4}-\d{2})"
    r"|bilanz-(?P<von>\d{4}-\d{2}-\d{2})-bis-(?P<bis>\d{4}-\d{2}-\d{2}))"
    r"_stand-(?P<as_of>\d{4}-\d{2}-\d{2})_\d{8}T\d{6}Z(-\d+)?\.pdf"
)


def read_name(name: str) -> tuple[Span, dt.date] | None:
    """A kept report's span and as-of date, read back from its name (None: not one)."""
    match = KEPT_NAME.fullmatch(name)
    if match is None:
        return None
    if match["month"]:
        span = month(match["month"])
    else:
        von, bis = (dt.date.fromisoformat(match[part]) for part in ("von", "bis"))
        span = Span(von, bis, False)
    return span, dt.date.fromisoformat(match["as_of"])


def month(text: str) -> Span:
    """A calendar month as typed (``2026-11``); ValueError otherwise."""
    von, bis = periods.month(text)
    return Span(von, bis, True)


def month_before(today: dt.date) -> Span:
    """The calendar month before ``today``: the one the monthly run on the first reports,
    whatever the as-of date says (a night that failed, or a month whose last days have no
    data, would otherwise report the month before once more and skip this one). A month
    the data do not reach to its end is marked provisional in the report."""
    return month(f"{today.replace(day=1) - dt.timedelta(days=1):%Y-%m}")


def last_month(as_of: dt.date) -> Span:
    """The latest calendar month that has ended by the as-of date (``kohorte bericht``
    without a month, the Berichte page's default): the month before the day after it."""
    return month_before(as_of + dt.timedelta(days=1))


def programme_year_span(year: int, start_month: int) -> Span:
    """The programme year that starts in ``year`` (on the first of ``start_month``)."""
    von = dt.date(year, start_month, 1)
    return Span(von, dt.date(year + 1, start_month, 1) - dt.timedelta(days=1), False)


def _months_to(span: Span) -> list[tuple[dt.date, dt.date]]:
    """The 12 calendar months ending with the report's month."""
    spans, first = [], span.von
    for _ in range(TREND_MONTHS):
        spans.append(periods.month(f"{first:%Y-%m}"))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return spans[::-1]


def _cards(con: duckdb.DuckDBPyConnection, span: tuple[dt.date, dt.date], threshold: int):
    rows = queries.run(con, "ueberblick__kennzahlen", span=span).to_dict("records")
    return cards.protect_kpis(rows, threshold)


def _change(card: cards.Card) -> str:
    """The previous year's value as the card shows it ("–" where it may not be shown)."""
    if card.state != cards.SHOWN or card.previous is None:
        return "–"
    return fmt.kpi_value(card.previous, card.kpi.unit, LANG)


def figures(con: duckdb.DuckDBPyConnection, settings: Settings, span: Span) -> dict:
    """Everything the report shows, as strings and charts, every figure protected as in
    the dashboard; NoData when the span has nothing to report."""
    build = queries.run(con, "datenstand__build").iloc[0]
    as_of = build["as_of"].date() if hasattr(build["as_of"], "date") else build["as_of"]
    if span.von > as_of:
        raise NoData(
            f"Für „{span.title}“ gibt es noch keine Daten: der Datenstand ist {fmt.date(as_of)}."
        )
    threshold = settings.min_count
    shown = _cards(con, (span.von, span.bis), threshold)
    if all(c.state == cards.EMPTY or (c.state == cards.SHOWN and not c.value) for c in shown):
        raise NoData(f"Für „{span.title}“ gibt es keine Daten: niemand nahm in dieser Zeit teil.")
    end = min(span.bis, as_of)
    try:
        targets = settings.targets().for_year(programme_year(end, settings.programme_year_month))
        target_problem = None
    except ValueError as error:
        targets, target_problem = {}, str(error)
    trends = _trends(con, span, threshold) if span.monthly else {}
    headline = []
    for card in shown:
        if card.kpi.section not in ("kern", "programmjahr"):
            continue
        target = targets.get(card.kpi.id)
        headline.append(
            {
                "kpi": card.kpi.id,
                "label": card.kpi.label(LANG, periods.SPAN).replace(" (Zeitraum)", ""),
                "value": fmt.card_value(card, threshold, LANG),
                "previous": _change(card),
                "target": progress(card, target, LANG).text if target else "",
                "trend": trends.get(card.kpi.id),
            }
        )
    outcomes = [
        {
            "label": card.kpi.label(LANG, periods.SPAN).replace(" (Zeitraum)", ""),
            "value": fmt.card_value(card, threshold, LANG),
            "previous": _change(card),
        }
        for card in shown
        if card.kpi.section == "weitere" and card.kpi.unit == "count"
    ]
    quality = queries.run(con, "bericht__datenqualitaet", von=span.von, bis=span.bis).iloc[0]
    return {
        "title": span.title,
        "span": f"{fmt.date(span.von)} – {fmt.date(end)}",
        "column": _column(span.von, end, span.monthly),
        "column_baseline": _column(_year_before(span.von), _year_before(end), span.monthly),
        "baseline": f"{fmt.date(_year_before(span.von))} – {fmt.date(_year_before(end))}",
        "provisional": end < span.bis,
        "as_of": fmt.date(as_of),
        "built_at": fmt.datetime(build["built_at"]),
        # the document's date is its data version's (UTC), not the hour it was set: the
        # same version gives the same bytes, so a report made again is the one kept
        "date": list(pd.Timestamp(build["built_at"]).timetuple()[:6]),
        "run_id": str(build["run_id"]),
        "version": __version__,
        "min_count": threshold,
        "withheld": fmt.withheld(threshold),
        "headline": headline,
        "outcomes": outcomes,
        "target_problem": target_problem,
        "quality": {
            "lieferungen": fmt.number(int(quality["lieferungen"])),
            "zeilen_angenommen": fmt.number(int(quality["zeilen_angenommen"])),
            "zeilen_abgelehnt": fmt.number(int(quality["zeilen_abgelehnt"])),
            "lieferungen_zeitraum": fmt.number(int(quality["lieferungen_zeitraum"])),
            "zeilen_abgelehnt_zeitraum": fmt.number(int(quality["zeilen_abgelehnt_zeitraum"])),
            "warnungen": fmt.number(int(quality["warnungen"])),
        },
        "charts": {
            "triangle": _triangle(con, end, threshold),
            "curves": _curves(con, end, threshold),
        },
        "trend_months": [fmt.cohort(f"{m[0]:%Y-%m}", LANG) for m in _months_to(span)][::11]
        if span.monthly
        else [],
    }


def _column(von: dt.date, bis: dt.date, monthly: bool) -> str:
    """A figure column's head: the month ("Nov 2026") or the span's years."""
    if monthly:
        return fmt.cohort(f"{von:%Y-%m}", LANG)
    return str(von.year) if von.year == bis.year else f"{von.year}/{bis:%y}"


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _trends(con: duckdb.DuckDBPyConnection, span: Span, threshold: int) -> dict:
    """Each KPI's value in each of the 12 months to the report's month, as its card shows
    it (a withheld month is a gap), as a small line chart."""
    values: dict[str, list] = {}
    units = {}
    months = _months_to(span)
    for first, last in months:
        for card in _cards(con, (first, last), threshold):
            shown = card.value if card.state == cards.SHOWN else None
            values.setdefault(card.kpi.id, []).append(shown)
            units[card.kpi.id] = card.kpi.unit
    frames = {}
    for kpi_id, series in values.items():
        frame = pd.DataFrame(
            {"monat": pd.to_datetime([m[0] for m in months]), "wert": pd.array(series, "Float64")}
        )
        frames[kpi_id] = charts.trend(frame, units[kpi_id], LANG)
    return frames


def _labels() -> dict[str, str]:
    return {key: text[LANG] for key, text in charts.TEXTS.items()}


def _triangle(con: duckdb.DuckDBPyConnection, end: dt.date, threshold: int):
    """The cohort triangle of the last entry months up to the report's end, its first
    weeks, protected as on the Kohorten page."""
    frame = queries.run(con, "kohorten__dreieck", raster="monat")
    frame = frame[frame["kohorte"] <= f"{end:%Y-%m}"]
    recent = sorted(frame["kohorte"].unique())[-TRIANGLE_COHORTS:]
    frame = frame[frame["kohorte"].isin(recent) & (frame["woche"] <= TRIANGLE_WEEKS)]
    cells = cohorts.triangle(frame, threshold, LANG, f"weniger als {threshold} Fälle")
    if cells.empty:
        return None
    return charts.cohort_triangle(cells, _labels(), LANG)


def _curves(con: duckdb.DuckDBPyConnection, end: dt.date, threshold: int):
    """Time to integration of the last entry months up to the report's end and of all."""
    options = queries.run(con, "filter__optionen").iloc[0]
    chosen = [k for k in options["kohorten"] if k <= f"{end:%Y-%m}"][-CURVE_COHORTS:]
    curves = queries.run(con, "kohorten__verlauf", kohorten=[*chosen, "gesamt"])
    frame = cohorts.curves(curves, chosen, threshold, LANG, charts.TEXTS["all_cohorts"][LANG])
    if frame.empty:
        return None
    return charts.integration_curves(frame, _labels(), LANG)


FONT = "DejaVu Sans"  # the template's font (Debian's fonts-dejavu-core), also the charts'


def _svg(chart) -> str:
    """A chart as SVG, its text measured in the font the PDF sets it in (Vega's default
    sans-serif is narrower, and legends ran off the page)."""
    import vl_convert as vlc

    spec = chart.to_dict()
    spec.setdefault("config", {})["font"] = FONT
    return vlc.vegalite_to_svg(spec)


def render(data: dict) -> bytes:
    """The report as PDF/A-2b bytes: the charts as SVG (vector), the figures as JSON, laid
    out by ``bericht.typ``."""
    import typst

    with tempfile.TemporaryDirectory(prefix="kohorte-bericht-") as folder:
        root = Path(folder)
        shown = {**data, "charts": {}}
        for name, chart in data["charts"].items():
            if chart is not None:
                (root / f"{name}.svg").write_text(_svg(chart), encoding="utf-8")
                shown["charts"][name] = f"{name}.svg"
        shown["headline"] = []
        for row in data["headline"]:
            entry = {**row, "trend": None}
            if row["trend"] is not None:
                (root / f"trend-{row['kpi']}.svg").write_text(_svg(row["trend"]), encoding="utf-8")
                entry["trend"] = f"trend-{row['kpi']}.svg"
            shown["headline"].append(entry)
        (root / "data.json").write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
        template = resources.files("kohorte.present").joinpath("bericht.typ")
        (root / "bericht.typ").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        return typst.compile(str(root / "bericht.typ"), root=str(root), pdf_standards=["a-2b"])


def make(con: duckdb.DuckDBPyConnection, settings: Settings, span: Span) -> bytes:
    """The report of ``span`` from the connected warehouse version."""
    return render(figures(con, settings, span))


def save(settings: Settings, name: str, pdf: bytes, out: Path | None = None) -> Path:
    """Write a report where it is kept (``KOHORTE_HOME/berichte/<name>``, or ``out``),
    whole or not at all. A kept report is never replaced by another file: the same
    report again (same bytes) is the file already kept; other bytes under the same name
    (the targets or the threshold changed since) are kept beside it as ``<name>-2.pdf``,
    ``-3`` and so on, so the one mailed stays as it was."""
    from kohorte.store.files import atomic_write_bytes

    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, pdf, 0o640)
        return out
    settings.reports.mkdir(parents=True, exist_ok=True)
    stem, number = name.removesuffix(".pdf"), 1
    path = settings.reports / name
    while path.exists():
        if path.read_bytes() == pdf:
            return path
        number += 1
        path = settings.reports / f"{stem}-{number}.pdf"
    atomic_write_bytes(path, pdf, 0o640)
    return path
