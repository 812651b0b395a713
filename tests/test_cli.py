"""The command line as a user or a script calls it."""

from __future__ import annotations

import ast
import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kohorte import cli as kohorte_cli
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


def test_kpis_for_the_programme_year_name_it_and_end_at_the_as_of_date(
    sample_settings, monkeypatch
):
    """``--zeitraum programmjahr``: the programme year 2026 (from 01.01.) to 26.03.2026, its
    entries fewer than the 12 months'; an unknown span is a usage error (2) that names
    the known ones."""
    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    spans = {}
    for span in ("12monate", "programmjahr"):
        result = runner.invoke(app, ["kpis", "--json", "--zeitraum", span])
        assert result.exit_code == 0, result.output
        spans[span] = {k["id"]: k for k in json.loads(result.output)["kpis"]}
        assert json.loads(result.output)["period"] == span
    year, rolling = spans["programmjahr"]["eintritte_12m"], spans["12monate"]["eintritte_12m"]
    assert year["label"] == "Eintritte (Programmjahr)"
    assert rolling["label"] == "Eintritte (12 Monate)"
    assert (year["window_start"], year["window_end"]) == ("2026-01-01", "2026-03-26")
    assert 0 < year["value"] < rolling["value"]
    text = runner.invoke(app, ["kpis", "--zeitraum", "programmjahr"])
    assert "Zeitraum: Programmjahr" in text.output and "Eintritte (Programmjahr)" in text.output
    wrong = runner.invoke(app, ["kpis", "--zeitraum", "quartal"])
    assert wrong.exit_code == 2
    assert "Unbekannter Zeitraum „quartal“: 12monate, programmjahr." in wrong.output


def test_kpis_for_a_month_and_for_a_span_of_days(sample_settings, monkeypatch):
    """``--monat 2026-02`` is 01.02.-28.02.2026 against February 2025; ``--von/--bis``
    any span, cut at the as-of date (26.03.2026). The months add up to the span: entries
    are counted once, in the month they fall in. A half, reversed or mistyped span is a
    usage error (2) in German."""
    monkeypatch.setenv("KOHORTE_HOME", str(sample_settings.home))
    monkeypatch.setenv("KOHORTE_MIN_COUNT", "1")  # the sum of small months, unprotected

    def entries(*options: str) -> dict:
        result = runner.invoke(app, ["kpis", "--json", *options])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        return {
            "span": payload["span"],
            **next(k for k in payload["kpis"] if k["id"] == "eintritte_12m"),
        }

    february = entries("--monat", "2026-02")
    assert february["span"] == ["2026-02-01", "2026-02-28"]
    assert (february["window_start"], february["window_end"]) == ("2026-02-01", "2026-02-28")
    assert february["label"] == "Eintritte (Zeitraum)"
    months = [entries("--monat", m)["value"] for m in ("2026-01", "2026-02", "2026-03")]
    quarter = entries("--von", "01.01.2026", "--bis", "2026-12-31")
    assert quarter["window_end"] == "2026-03-26"
    assert sum(months) == quarter["value"] > 0
    for wrong, message in [
        (["--monat", "2026-13"], "„2026-13“ ist kein Monat"),
        (["--von", "2026-01-01"], "--von und --bis gehören zusammen."),
        (["--von", "2026-02-01", "--bis", "2026-01-01"], "liegt nach --bis"),
    ]:
        result = runner.invoke(app, ["kpis", *wrong])
        assert result.exit_code == 2 and message in result.output, result.output


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


def test_a_date_is_taken_as_germans_write_it_and_a_wrong_one_is_a_german_usage_error(
    settings,
):
    german = runner.invoke(app, ["load", "--plain", "--load-date", "02.01.2026"])
    assert german.exit_code == 0, german.output
    for wrong in (["load", "--plain", "--load-date", "32.01.2026"],
                  ["generate", "--start", "2024-13-01", "--out", str(settings.home / "x")],
                  ["retention", "--today", "morgen"]):  # fmt: skip
        result = runner.invoke(app, wrong, terminal_width=200)
        assert result.exit_code == 2, (wrong, result.output)
        assert "Ungültiger Wert für" in result.output and "ist kein Datum" in result.output
        assert isinstance(result.exception, SystemExit), result.exception  # no traceback


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


# --- the help and the usage errors speak German ----------------------------------------------

LOCALE = Path(kohorte_cli.__file__).parent / "locale" / "de" / "LC_MESSAGES"
WIDE = {"COLUMNS": "100"}  # Rich wraps at the terminal's width; a fixed one, stable output

# Typer's and Click's English frame texts, and the Python type names Typer shows as hints
ENGLISH = [
    "Usage",
    "Options",
    "Commands",
    "Arguments",
    "Show this message",
    "[default",
    "[required]",
    "Try '",
    "Error",
    "<bool>",
    "<str>",
    "<int>",
    "<float>",
    "<path>",
    " the ",
    " or ",
]


def _command_paths(command, path=()) -> list[tuple[str, ...]]:
    """Every command and group of the CLI, as the arguments that name it."""
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*path, name))
    return paths


def _invoke(*args: str, **kwargs):
    return runner.invoke(app, list(args), env=WIDE, prog_name="kohorte", **kwargs)


COMMANDS = _command_paths(typer.main.get_command(app))


def test_every_command_is_checked():
    named = {" ".join(p) for p in COMMANDS}
    assert named >= {"", "generate", "sql", "analyst-file", "user", "user add", "user demo"}


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "kohorte")
def test_the_help_is_german(path):
    result = _invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    text = result.output
    assert [word for word in ENGLISH if word in text] == [], text
    assert f"Aufruf: kohorte {' '.join(path)}".rstrip() in text
    assert "[OPTIONEN]" in text and "─ Optionen ─" in text
    assert "--help" in text and "Zeigt diese Hilfe und beendet." in text
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    if hasattr(command, "commands"):
        assert "BEFEHL [ARGUMENTE]..." in text and "─ Befehle ─" in text
    if any(isinstance(p, typer.core.TyperArgument) for p in command.params):
        assert "─ Argumente ─" in text and "[erforderlich]" in text


def test_defaults_required_options_and_switches_in_german():
    generate = _invoke("generate", "--help").output
    assert "[Standard: 42]" in generate and "--start                   DATUM " in generate
    add = _invoke("user", "add", "--help").output
    assert "{NAME}" in add and "--role                  ROLLE " in add
    assert "Rolle: teamleitung, coach, analyse oder leitung." in add
    top = _invoke("--help").output
    # a switch shows no type after it: conventional, not "--version <bool>"
    assert "│ --version          Zeigt die installierte Version und beendet." in top


def test_the_help_is_german_whatever_the_machines_language(tmp_path):
    env = {**os.environ, "LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8", "LANGUAGE": "en"}
    shown = subprocess.run(
        [sys.executable, "-m", "kohorte.cli", "--help"],
        env={**env, **WIDE}, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Aufruf:" in shown and "─ Optionen ─" in shown and "─ Befehle ─" in shown
    assert "Usage" not in shown and "Show this message" not in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["foo"], "Unbekannter Befehl 'foo'."),
        (["genrate"], "Unbekannter Befehl 'genrate'. Meinten Sie 'generate'?"),
        (["user", "add"], "Argument 'NAME' fehlt."),
        (["user", "add", "anja"], "Option '--role' fehlt."),
        (["generate", "--seed", "x"], "Ungültiger Wert für '--seed': erwartet wird eine ganze"),
        (["generate", "--seed"], "Option '--seed' braucht einen Wert."),
        (["generate", "--if-empty=ja"], "Option '--if-empty' nimmt keinen Wert an."),
        (["kpis", "--jsn"], "Unbekannte Option: --jsn (mögliche Optionen: --bis, --json, --von)"),
        (["kpis", "extra"], "Überzählige Angaben: extra"),
    ],
)
def test_a_usage_error_is_german(args, message):
    result = _invoke(*args)
    assert result.exit_code == 2
    text = result.output
    assert message in text
    assert "Aufruf: kohorte" in text and "─ Fehler ─" in text
    assert "Hilfe: 'kohorte" in text and " --help'" in text
    assert [word for word in ENGLISH if word in text] == [], text


def test_a_group_without_a_command_shows_its_help():
    result = _invoke("user")
    assert "Aufruf: kohorte user [OPTIONEN] BEFEHL" in result.output
    assert "─ Befehle ─" in result.output and "Fehler" not in result.output


def test_the_password_is_asked_twice_in_german(settings):
    password = "richtig-langes-passwort"
    answers = f"{password}\nvertippt-langes-passwort\n{password}\n{password}\n"
    result = runner.invoke(app, ["user", "add", "anja", "--role", "leitung"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Passwort wiederholen" in result.output
    assert "Fehler: Die beiden Eingaben stimmen nicht überein." in result.output
    assert "Konto anja (leitung) angelegt." in result.output


def _catalogue(path: Path, read) -> dict[str, str]:
    with path.open("rb") as file:
        return {m.id: m.string for m in read(file) if m.id}


def test_the_compiled_catalogue_matches_the_po_file():
    """messages.mo is committed (gettext reads only compiled catalogues, and an installed
    wheel has nowhere to build one). After editing messages.po, rebuild it with:

    .venv/bin/python -c "from babel.messages import pofile, mofile;
    d = 'kohorte/locale/de/LC_MESSAGES/';
    mofile.write_mo(open(d + 'messages.mo', 'wb'), pofile.read_po(open(d + 'messages.po', 'rb')))"
    """
    from babel.messages import mofile, pofile

    source = _catalogue(LOCALE / "messages.po", pofile.read_po)
    assert _catalogue(LOCALE / "messages.mo", mofile.read_mo) == source
    for msgid, msgstr in source.items():
        assert msgstr, msgid
        fields = [f for _, f, _, _ in string.Formatter().parse(msgid) if f is not None]
        assert fields == [f for _, f, _, _ in string.Formatter().parse(msgstr) if f is not None]


def _gettext_ids(source: str) -> set[str]:
    """The msgids of ``_("...")`` calls in a module."""
    return {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_the_catalogue_has_every_frame_text_of_typer_and_of_the_cli():
    """A Typer upgrade that adds a frame text fails here rather than printing English."""
    import typer.core
    import typer.rich_utils
    from babel.messages import pofile

    wanted = set()
    for module in (typer.rich_utils, typer.core, kohorte_cli):
        wanted |= _gettext_ids(Path(module.__file__).read_text(encoding="utf-8"))
    catalogue = _catalogue(LOCALE / "messages.po", pofile.read_po)
    assert wanted - set(catalogue) == set()
    assert {"Usage:", "Options", "Show this message and exit."} <= wanted
