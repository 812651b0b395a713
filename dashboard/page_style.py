"""What Streamlit shows by default that the cockpit changes: its English texts, and the
room above the title.

- On a German page, what Streamlit itself would say in English is said in German.

Streamlit's run indicator ("Running... Stop") and the date fields' placeholder
("dd.mm.yyyy") have no setting for their language. The indicator is replaced by a German
one in CSS; the placeholder is rewritten in the page (a small script, run by ``st.html``
with JavaScript allowed, nothing loaded). The app menu is off (``toolbarMode = "minimal"``
in ``.streamlit/config.toml``), and every widget gets a German placeholder where it takes one.
- The title area is compact, so that at 1280×720 the first screen holds the attention list
  and the headline cards.
"""

from __future__ import annotations

import streamlit as st

PLACEHOLDERS = {"de": "TT.MM.JJJJ", "en": "DD.MM.YYYY"}
RUNNING = {"de": "Wird geladen …", "en": "Loading …"}

CSS = """
[data-testid="stMainBlockContainer"] {{ padding-top: 3.5rem !important; }}
h1 {{ font-size: 2rem !important; padding-top: 0.25rem !important; }}
[data-testid="stStatusWidget"] > * {{ display: none !important; }}
[data-testid="stStatusWidget"]::after {{
  content: "{running}"; font-size: 0.85rem; color: #555; padding: 0 0.5rem;
}}
"""

SCRIPT = """
(() => {{
  const state = window.__kohortePlaceholders || (window.__kohortePlaceholders = {{}});
  state.wanted = "{placeholder}";
  const fix = () => document.querySelectorAll('[data-testid="stDateInput"] input')
    .forEach((input) => {{
      if (input.placeholder !== state.wanted) input.placeholder = state.wanted;
    }});
  fix();
  if (!state.observer) {{
    state.observer = new MutationObserver(fix);
    state.observer.observe(document.body, {{ subtree: true, childList: true }});
  }}
}})();
"""


def apply(lang: str) -> None:
    """Add the German (or English) run indicator and date placeholders to this run's page."""
    st.html(f"<style>{CSS.format(running=RUNNING[lang])}</style>")
    st.html(
        f"<script>{SCRIPT.format(placeholder=PLACEHOLDERS[lang])}</script>",
        unsafe_allow_javascript=True,
    )
