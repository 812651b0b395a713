"""Smoke test of the benchmark harness (scripts/bench.py) at a micro scale: figures come out
and are positive. The benchmark itself is `make bench`, never part of the suite."""

from __future__ import annotations

import sys

import pytest

from scripts import bench

pytestmark = pytest.mark.slow  # a whole tool in subprocesses: make test, not make check


@pytest.fixture(scope="module")
def micro(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setattr(bench, "DATA", tmp_path_factory.mktemp("bench-data"))
    bench.DATA.mkdir(exist_ok=True)
    log = bench.DATA / "bench.log"
    manifest = bench.deliveries("mikro", log)
    return manifest, bench.pipeline_figures("mikro", manifest, 1, log, flow=False), log


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_a_child_process_peak_memory_is_its_own(tmp_path):
    grow = "b = bytearray(200 * 2**20); b[::4096] = b'1' * len(b[::4096])"
    seconds, mib, _ = bench.measured([sys.executable, "-c", grow], {}, tmp_path / "log")
    assert seconds > 0
    assert 200 < mib < 300  # not this test process's own memory


def test_the_night_is_held_back_from_the_full_load(micro):
    manifest, _, _ = micro
    night = [f for f in manifest["files"] if f["night"]]
    assert night and len(night) < len(manifest["files"])
    assert all(f["rows"] >= 0 and f["bytes"] > 0 for f in manifest["files"])


def test_loads_and_baselines_give_positive_figures(micro):
    _, figures, _ = micro
    for step in ("full", "night", "duckdb", "pandas"):
        run = figures[step][0]
        assert run["seconds"] > 0 and run["rows"] > 0 and run["mib"] > 0, step
    assert figures["full"][0]["status"] == "published"
    assert figures["night"][0]["status"] == "published"


def test_every_named_query_is_timed_and_reported(micro):
    manifest, figures, _ = micro
    timings = bench.query_figures(bench.DATA / "mikro" / "home", 1)
    assert set(bench.queries.names()) <= set(timings)
    assert all(t["cold_p95"] > 0 and t["warm_p50"] > 0 for t in timings.values())
    text = bench.markdown(
        [{"scale": "mikro", "manifest": manifest, "pipeline": figures, "queries": timings}],
        1,
        "test",
        0.0,
    )
    assert "| mikro | full load |" in text and "### Targets" in text


@pytest.mark.e2e  # Debian's chromium against a dashboard process
def test_the_browser_figures_give_each_interactions_server_cpu(micro):
    """One cold and one warm run in chromium: paint, the three interactions and the CPU the
    dashboard process spent on each, all positive, and the report's tables and verdicts
    name them."""
    manifest, figures, log = micro
    home = bench.DATA / "mikro" / "home"
    runs = bench.browser_figures(home, 1, log)
    assert len(runs["paint"]) == 2 and all(p > 0 for p in runs["paint"])
    for interaction in bench.INTERACTIONS:
        assert len(runs[f"cpu_{interaction}"]) == 2
        assert all(0 < s < 30 for s in runs[f"cpu_{interaction}"]), interaction
    assert runs["dashboard_mib"][0] > 50  # the dashboard process's own peak, not 0
    timings = bench.query_figures(home, 1)
    result = {"scale": "mikro", "manifest": manifest, "pipeline": figures, "queries": timings}
    text = bench.markdown([{**result, "browser": runs}], 1, "test", 0.0)
    assert "| scale | filter change | page switch | triangle click |" in text
    assert "| mikro | " in text.split("| scale | filter change |", 1)[1]
    assert "Server CPU per interaction < 100 ms (mikro): filter" in text
