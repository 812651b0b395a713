"""The dashboard's only door to data: the published warehouse, read-only, cached per version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from kohorte import queries, warehouse
from kohorte.config import load_settings


@st.cache_resource(max_entries=2)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per published version (its exact, immutable file)."""
    return warehouse.connect_readonly(Path(path))


def current_version() -> str | None:
    """Path of the published warehouse right now; a new publish gives a new path."""
    path = warehouse.current_path(load_settings())
    return None if path is None else str(path)


@st.cache_data(max_entries=64, show_spinner=False)
def named(version: str, name: str, **params: object) -> pd.DataFrame:
    """A named query's result, cached per warehouse version (a publish is never hidden)."""
    return queries.run(_connection(version), name, **params)


def kpis(version: str) -> pd.DataFrame:
    """Headline KPIs of that version."""
    return named(version, "ueberblick__kennzahlen")


def monthly(version: str, start: dt.date) -> pd.DataFrame:
    """Monthly figures from ``start``."""
    return named(version, "ueberblick__monatszahlen", start=start)


def min_count() -> int:
    """The small-count threshold from configuration."""
    return load_settings().min_count


def build_info(version: str) -> dict:
    """Run, as-of date and build time of that version."""
    return named(version, "datenstand__build").iloc[0].to_dict()
