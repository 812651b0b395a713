"""How a page prints (the browser's Print, or Save as PDF): the figures and tables only.

Buttons, download buttons, selectors and the filter widgets, the top navigation and the
header's toolbar are hidden; Streamlit's scrolling containers are let out to their full
height, so every page of a long view prints, not just the part on screen. Plain CSS in the
page (``st.html`` with only a style element takes no room): nothing is loaded.
"""

from __future__ import annotations

import streamlit as st

HIDDEN = (
    # the header: navigation, toolbar, main menu, the run indicator
    '[data-testid="stHeader"]',
    '[data-testid="stToolbar"]',
    '[data-testid="stTopNav"]',
    '[data-testid="stMainMenu"]',
    '[data-testid="stStatusWidget"]',
    '[data-testid="stAppDeployButton"]',
    '[data-testid="stDecoration"]',
    '[data-testid="stSidebar"]',
    '[data-testid="stExpandSidebarButton"]',
    '[data-testid="stSkipToContent"]',
    # buttons and downloads
    '[data-testid="stButton"]',
    '[data-testid="stDownloadButton"]',
    '[data-testid="stLinkButton"]',
    '[data-testid="stPopover"]',
    # selectors and inputs (the language, the rate shown, the cohort raster, a search)
    '[data-testid="stSelectbox"]',
    '[data-testid="stMultiSelect"]',
    '[data-testid="stDateInput"]',
    '[data-testid="stTextInput"]',
    '[data-testid="stTextArea"]',
    '[data-testid="stNumberInput"]',
    '[data-testid="stButtonGroup"]',
    '[data-testid="stRadio"]',
    '[data-testid="stCheckbox"]',
    # the filter bar: the expander holding the selectors
    '[data-testid="stExpander"]:has([data-testid="stSelectbox"])',
    # the hover toolbars of tables and charts
    '[data-testid="stElementToolbar"]',
    ".vega-embed details",
)

CSS = f"""
@media print {{
  {", ".join(HIDDEN)} {{ display: none !important; }}
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"] {{
    height: auto !important; overflow: visible !important; position: static !important;
  }}
  [data-testid="stMainBlockContainer"] {{ padding-top: 0 !important; }}
  [data-testid="stVegaLiteChart"], [data-testid="stMetric"], [data-testid="stDataFrame"] {{
    break-inside: avoid;
  }}
}}
"""


def apply() -> None:
    """Add the print style sheet to this run's page."""
    st.html(f"<style>{CSS}</style>")
