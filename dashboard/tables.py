"""Read-only tables in the UI language."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import describe
from dashboard.i18n import code, lang, t
from kohorte.define.dimensions import Filters
from kohorte.read import export, fmt

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def escape_markdown(text: str) -> str:
    """Text from data (file names, messages) for places that render Markdown, such as
    expander labels: every Markdown or HTML character is escaped, so it shows as typed."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _cell(value: object, places: int, percent: bool, language: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"  # a missing number or date, as on the cards
    return _formatted(value, places, percent, language)


@functools.lru_cache(maxsize=65536)
def _formatted(value: object, places: int, percent: bool, language: str) -> str:
    """Babel formats one value in ~30 µs; tables repeat their counts and dates, and a
    dashboard under load formats the same tables again and again: remember the strings."""
    if isinstance(value, (dt.datetime, pd.Timestamp, dt.date)):
        return fmt.date(value, language)
    if percent:
        return fmt.percent(float(value), language)
    return fmt.number(value, language, places)


def show_table(
    frame: pd.DataFrame,
    columns: dict[str, str],
    decimals: dict[str, int] | None = None,
    percents: set[str] | frozenset[str] = frozenset(),
    select: bool = False,
    codes: set[str] | frozenset[str] = frozenset(),
    key: str = "table_select",
    rows: int | None = None,
):
    """Translated headers and status codes; numbers, percents and dates formatted by Babel
    (the grid's own formatting would follow the browser's locale, not the UI language);
    everything else shown as plain text."""
    if frame.empty:  # nothing matches: a dash, not an empty grid labelled "empty"
        st.markdown("–")
        return None
    # columns the read layer withheld for this role (kohorte.read.access) are left out
    columns = {k: v for k, v in columns.items() if k in frame.columns}
    shown = frame[list(columns)].copy()
    config = {}
    language = lang()  # once per table, not per cell
    for column in shown.columns:
        series = shown[column]
        label = t(columns[column])
        if column in ("status", "severity"):
            shown[column] = series.map(lambda v: t(f"status_{v}"))
        elif column in codes:
            shown[column] = series.map(code)
        elif series.dtype.kind in "iufM" or column in percents or _is_date(series):
            places = (decimals or {}).get(column, 0)
            shown[column] = series.map(
                lambda v, p=places, pc=column in percents: _cell(v, p, pc, language)
            )
            if series.dtype.kind in "iuf" or column in percents:
                config[label] = st.column_config.TextColumn(alignment="right")
        else:
            shown[column] = series.astype(object).where(series.notna(), "")
    shown = shown.rename(columns={k: t(v) for k, v in columns.items()})
    if select:  # one row can be chosen; the caller reads event.selection.rows
        return st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config=config,
            on_select="rerun",
            selection_mode="single-row",
            key=key,
            # at most ``rows`` rows high; the rest scrolls inside the table
            height="auto" if rows is None or len(shown) <= rows else 35 * (rows + 1) + 3,
        )
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
    return None


def download_buttons(
    frame: pd.DataFrame,
    name: str,
    key: str,
    *,
    title: str | None = None,
    kinds: Mapping[str, export.KindSpec] | None = None,
    filtered: bool = True,
) -> None:
    """CSV (German Excel) and XLSX downloads of exactly what the page shows.

    ``frame`` holds numbers as numbers and must already be protected (small counts
    replaced by their text, ``<3`` or ``*``); ``kinds`` says how its numbers are written
    (``kohorte.read.export.Kind`` or its name by column, or one per row). Each file starts
    with ``title``, the as-of date and the filters in force (``filtered=False``: a view
    the filter bar does not apply to, such as the analysts' own query), and is named
    ``<name>_<as-of date, ISO>.csv`` (``kennzahlen_2026-03-26.csv``) so that downloads sort
    by date. Formulas are neutralised.
    """
    as_of, filters = export_context(filtered)
    lines = ((t("as_of"), as_of), (t("filters"), filters))
    # made eagerly (a deferred file does not survive the KPI cards' fragment refresh: the
    # click then never downloads), and remembered per table content
    csv, xlsx = _exports(frame, name, dict(kinds or {}), title, lines)
    _download_pair(
        name,
        key,
        ":material/download:",
        [("CSV", "csv", "text/csv", csv), ("XLSX", "xlsx", XLSX_MIME, xlsx)],
        as_of,
    )


@st.cache_data(max_entries=512, show_spinner=False)
def _exports(
    frame: pd.DataFrame, name: str, kinds: dict, title: str | None, lines: tuple
) -> tuple[bytes, bytes]:
    """CSV and XLSX of a table. Cached: openpyxl needs ~20 ms a table, and an XLSX differs
    on every save (its timestamps), so without the cache every rerun under load published
    a new download file and retired the one a browser was about to fetch (HTTP 404)."""
    table = export.Table(frame, kinds, title, lines)
    return export.to_csv(table), export.to_xlsx(table, sheet=name)


def chart_downloads(
    chart: alt.TopLevelMixin,
    name: str,
    key: str,
    *,
    title: str | None = None,
    filtered: bool = True,
) -> None:
    """PNG and SVG of a chart, rendered offline (vl-convert) only when a button is clicked,
    so the page's first paint does not wait for a second of rendering per chart. The file
    carries ``title`` and, as its subtitle, the as-of date and the filters in force; it is
    named like the tables' downloads (``kohorten-dreieck_2026-03-26.png``)."""
    as_of, filters = export_context(filtered)
    subtitle = [f"{t('as_of')}: {fmt.date(as_of, lang())}", f"{t('filters')}: {filters}"]

    def render(fmt_name: str) -> bytes:
        # a copy with the title, made on the click (copying a chart costs as much as
        # drawing it): the chart on the page keeps its subheader instead; on the page a
        # chart stretches to its column, in a file it needs a width of its own
        titled = chart.properties(
            title=alt.TitleParams(
                title or "", subtitle=subtitle, anchor="start", subtitleColor="#333333"
            )
        )
        if chart.width is alt.Undefined:
            titled = titled.properties(width=EXPORT_WIDTH)
        buffer = io.StringIO() if fmt_name == "svg" else io.BytesIO()
        options = {"scale_factor": 2} if fmt_name == "png" else {}
        titled.save(buffer, format=fmt_name, **options)
        value = buffer.getvalue()
        return value.encode() if isinstance(value, str) else value

    _download_pair(
        name,
        key,
        ":material/image:",
        [
            ("PNG", "png", "image/png", lambda: render("png")),
            ("SVG", "svg", "image/svg+xml", lambda: render("svg")),
        ],
        as_of,
    )


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_WIDTH = 640  # px of a chart's plot in a PNG or SVG, unless the chart sets its own


def export_context(filtered: bool = True) -> tuple[dt.date | None, str]:
    """The as-of date of the published data and the filters in force, in words, for the
    head of an export."""
    version = data.current_version()
    as_of = None if version is None else pd.Timestamp(data.build_info(version)["as_of"]).date()
    return as_of, describe_filters(applied_filters() if filtered else Filters())


def applied_filters() -> Filters:
    """The filters in force as the filter bar applies them: those in the URL, without a
    coach this person may not select (the filter bar drops that one too)."""
    from dashboard import auth

    filters = Filters.from_query(st.query_params.to_dict())
    if filters.coach is not None:
        version = data.current_version()
        offered = version is not None and filters.coach in data.filter_options(version)["coaches"]
        if not offered or not auth.require_principal().may_filter_staff(
            filters.coach, data.coach_views()
        ):
            filters = filters.without_staff()
    return filters


def describe_filters(filters: Filters) -> str:
    """The filters in words with the filter bar's labels (``dashboard.filters.describe``):
    "Standort: Salzgitter; Geschlecht: weiblich", or "keine Filter"."""
    return "; ".join(describe(filters)) or t("no_filters")


def _download_pair(
    name: str, key: str, icon: str, items: list[tuple], as_of: dt.date | None = None
) -> None:
    """Two small download buttons side by side; each item's data is bytes, or a callable
    that Streamlit runs only when its button is clicked. Every download is an export of
    programme data and goes to the audit log."""
    from dashboard import auth

    principal = auth.require_principal()
    view = st.query_params.to_dict() or None
    row = st.container(horizontal=True, gap="small")  # side by side at their own width
    for label, suffix, mime, make in items:
        file_name = export.file_name(name, as_of, suffix)
        if callable(make):
            # rendered on click, outside the script run (no session there): the export is
            # recorded as it is made, and the click needs no rerun that could race with it
            data_, on_click, args = _recorded(make, principal, file_name, view), "ignore", None
        else:
            data_, on_click, args = make, _record_export, (file_name, view)
        row.download_button(
            label,
            data_,
            file_name=file_name,
            mime=mime,
            key=f"{key}_{suffix}",
            icon=icon,
            width="content",
            on_click=on_click,
            args=args,
        )


def _recorded(make, principal, file_name: str, view):
    def make_and_record() -> bytes:
        from kohorte.config import load_settings
        from kohorte.ops import audit

        data = make()
        audit.record(
            load_settings(), principal.name, principal.role, audit.EXPORT, datei=file_name,
            seite=view,
        )  # fmt: skip
        return data

    return make_and_record


def _record_export(file_name: str, view: dict | None) -> None:
    from dashboard import auth
    from kohorte.ops import audit

    auth.record(audit.EXPORT, datei=file_name, seite=view)


def date_columns(frame: pd.DataFrame) -> dict:
    """Column settings that show a frame's dates as dd.mm.yyyy (and times to the second)
    in the grid, which would write them the ISO way; the values stay dates, so the
    columns still sort as dates. For grids that keep their values (the SQL page)."""
    config = {}
    for column in frame.columns:
        series = frame[column]
        first = series.dropna().head(1).tolist()
        if series.dtype.kind == "M" or (first and isinstance(first[0], dt.datetime)):
            config[column] = st.column_config.DatetimeColumn(format="DD.MM.YYYY HH:mm:ss")
        elif _is_date(series):
            config[column] = st.column_config.DateColumn(format="DD.MM.YYYY")
    return config


def _is_date(series: pd.Series) -> bool:
    present = series.notna().to_numpy()
    return bool(present.any()) and isinstance(
        series.iat[int(present.argmax())], (dt.date, pd.Timestamp)
    )
