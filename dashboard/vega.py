"""A chart on a page, built once and shared: the Altair chart and its Vega-Lite spec are
kept per chart builder and input (the data of a published version and selection, the
labels, the language) for every session of the process. A rerun then draws a copy of the
spec: building the Altair objects and validating the spec against Vega-Lite's schema,
about half of a warm Überblick rerun, happen once, not on every click."""

from __future__ import annotations

import copy

import altair as alt
import streamlit as st

from kohorte.present import charts


@st.cache_resource(max_entries=512, show_spinner=False)
def _built(builder: str, *args: object) -> tuple[alt.TopLevelMixin, dict]:
    chart = getattr(charts, builder)(*args)
    return chart, chart.to_dict()  # validated here, once


def show(builder: str, *args: object, **options: object) -> alt.TopLevelMixin:
    """Draw ``charts.<builder>(*args)`` with ``st.vega_lite_chart`` (``options``: width,
    key, on_select); returns the chart (for its downloads). Streamlit moves a spec's data
    out of it while drawing, so it gets a copy."""
    chart, spec = _built(builder, *args)
    st.vega_lite_chart(spec=copy.deepcopy(spec), **options)
    return chart
