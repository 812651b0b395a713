"""The command line as a user or a script calls it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kohorte.cli import app
from kohorte.define.kpis import CATALOGUE

runner = CliRunner()


def test_kpis_json_from_the_published_warehouse(sample_settings, monkeypatch):
    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    result = runner.invoke(app, ["kpis", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["as_of"] == "2026-03-26"  # the last session day of the sample
    ids = [k["id"] for k in payload["kpis"]]
    assert "integrationsquote" in ids and len(ids) == len(CATALOGUE)
    rate = next(k for k in payload["kpis"] if k["id"] == "integrationsquote")
    assert rate["value"] == pytest.approx(rate["numerator"] / rate["denominator"])
    assert rate["state"] == "shown" and rate["suppressed"] is False


def test_kpis_human_output_is_german(sample_settings, monkeypatch):
    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    result = runner.invoke(app, ["kpis"])
    assert result.exit_code == 0, result.output
    assert "Datenstand 26.03.2026" in result.output
    assert "Integrationsquote" in result.output
    assert " %" in result.output and "," in result.output


def test_kpis_without_a_warehouse_says_what_to_do(settings):
    result = runner.invoke(app, ["kpis"])
    assert result.exit_code == 1
    assert "kohorte load" in result.output


def test_load_plain_prints_the_summary(settings):
    (settings.inbox / "verbleib_20260101.csv").write_text(
        "kundennummer;stichtag;status\r\n012D000001;01.01.2026;svb_beschaeftigt\r\n"
    )
    result = runner.invoke(app, ["load", "--plain", "--load-date", "2026-01-02"])
    assert result.exit_code == 0, result.output
    assert "Status: veröffentlicht, Datenstand 01.01.2026" in result.output
    assert "1 angenommen" in result.output
    assert "**" not in result.output and "|" not in result.output  # no Markdown


def test_version():
    from kohorte import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"kohorte {__version__}\n"


def test_load_on_an_empty_inbox_says_so(settings):
    result = runner.invoke(app, ["load", "--plain", "--load-date", "2026-01-02"])
    assert result.exit_code == 0, result.output
    assert "Dateien: keine neuen Lieferungen" in result.output


def test_load_with_rejected_lines_exits_3_and_names_the_report(settings):
    """Loaded, but not everything: a code of its own, so cron and systemd can tell it
    from success (0) and from failure (1)."""
    (settings.inbox / "verbleib_20260101.csv").write_text(
        "kundennummer;stichtag;status\r\n012D000001;01.01.2026;svb_beschaeftigt\r\n"
        "012D000002;31.02.2026;svb_beschaeftigt\r\n"
    )
    result = runner.invoke(app, ["load", "--plain", "--load-date", "2026-01-02"])
    assert result.exit_code == 3, result.output
    assert "Zeilen: 1 angenommen, 1 abgelehnt" in result.output
    assert "Nicht vollständig geladen:" in result.output
    assert "verbleib_20260101.csv: teilweise geladen." in result.output
    assert ".report.txt)" in result.output


def test_generate_into_the_inbox_only_if_empty(settings):
    args = ["generate", "--start", "2026-01-05", "--end", "2026-02-27", "--if-empty"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "Dateien" in first.output
    count = len(list(settings.inbox.iterdir()))
    assert count > 5
    second = runner.invoke(app, args)
    assert "nichts erzeugt" in second.output
    assert len(list(settings.inbox.iterdir())) == count
