"""The load test's harness (scripts/loadtest.py) in small: three sessions for a few seconds,
so `make loadtest` cannot rot between the times someone runs it in full."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TEST_KEY

from kohorte.config import Settings

pytestmark = pytest.mark.e2e


def test_three_sessions_while_the_nightly_load_publishes(
    sample_settings: Settings, tmp_path: Path
) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing; run `make browser` (part of `make test`).")
    figures_path = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "loadtest.py"),
            "--home",
            str(sample_settings.home),  # the harness loads into its own copy
            "--sessions",
            "3",
            "--browsers",
            "1",
            "--seconds",
            "12",
            "--processes",
            "2",  # behind HAProxy, as `kohorte serve` runs the dashboard on 2 cores
            "--json",
            str(figures_path),
        ],
        cwd=ROOT,
        env={**os.environ, "KOHORTE_PSEUDONYM_KEY": TEST_KEY},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["errors"] == 0, figures["error_texts"]
    assert figures["publishes"] >= 1
    assert figures["by_kind"]["Anmelden"]["n"] == 3  # every session signed in, and an
    # untimed round through every page came first (a failure there counts as an error)
    assert set(figures["by_client"]) == {"chromium", "websocket"}
    assert figures["during_load"] > 0  # while a load was building and publishing
    assert 0 < figures["overall"]["p50"] <= figures["overall"]["p95"]
    assert figures["dashboard_peak_rss_mib"] > 0
    assert figures["dashboard_processes"] == 2
