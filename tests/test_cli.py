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
    assert "Status: **published**" in result.output
    assert "1 angenommen" in result.output


def test_generate_into_the_inbox_only_if_empty(settings):
    args = ["generate", "--start", "2026-01-05", "--end", "2026-02-27", "--if-empty"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "Dateien" in first.output
    count = len(list(settings.inbox.iterdir()))
    assert count > 5
    second = runner.invoke(app, args)
    assert "nichts erzeugt" in second.output
    assert len(list(settings.inbox.iterdir())) == count
