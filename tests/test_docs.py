"""The documentation keeps its promises (in the spirit of sqlite-utils' test_docs.py)."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from kohorte import docs
from kohorte.cli import app
from kohorte.define import contract, kpis


def test_generated_docs_are_up_to_date():
    assert docs.stale(ROOT) == [], "run `make docs`"


def test_a_stale_table_is_found_and_rewritten_while_the_prose_stays(tmp_path):
    for name in docs.GENERATED:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    page = tmp_path / "docs" / "kpis.md"
    original = page.read_text(encoding="utf-8")
    first = kpis.CATALOGUE[0]
    edited = original.replace(f"(`{first.id}`)", "(`umbenannt`)", 1)
    edited = edited.replace("## As-of date", "## Stichtag (hand edited)")
    page.write_text(edited, encoding="utf-8")
    assert docs.stale(tmp_path) == ["docs/kpis.md"]
    assert docs.write(tmp_path) == ["docs/kpis.md"]
    again = page.read_text(encoding="utf-8")
    assert f"(`{first.id}`)" in again and "umbenannt" not in again
    assert "## Stichtag (hand edited)" in again  # prose outside the markers is the page's own
    assert docs.stale(tmp_path) == []


def test_kohorte_docs_says_how_many_pages_it_wrote(tmp_path):
    for name in docs.GENERATED:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    result = CliRunner().invoke(app, ["docs", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{len(docs.GENERATED)} Seiten geprüft, 0 neu geschrieben."


def test_every_kpi_is_documented():
    text = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for kpi in kpis.CATALOGUE:
        assert f"(`{kpi.id}`)" in text


def test_every_mart_has_a_check():
    checks = " ".join(p.read_text() for p in (ROOT / "sql" / "checks").glob("*.sql"))
    for mart in (ROOT / "sql" / "marts").glob("*.sql"):
        assert f"marts.{mart.stem}" in checks, f"no check reads marts.{mart.stem}"


def test_every_cli_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert f"kohorte {name}" in readme, name


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start")[1].split("##")[0]
    assert re.findall(r"^make \w+", quick, re.M) == ["make run", "make test"]


def test_sql_files_follow_the_layering():
    for path in (ROOT / "sql" / "marts").glob("*.sql"):
        assert "raw." not in path.read_text(), f"{path.name}: a mart never reads raw input"
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text()
        assert "staging." not in text, f"{path.name}: the dashboard never reads staging"
        sql = re.search(r"\bselect\b[^\n]*\bfrom\b", text, re.IGNORECASE)
        assert not sql, f"{path.name}: SQL belongs in sql/queries, not in pages: {sql[0]}"


def test_every_code_of_the_contract_has_a_label_in_both_languages():
    from dashboard.i18n import CODE_LABELS

    codes = {code for kind in contract.KINDS.values() for c in kind.columns for code in c.codes}
    missing = sorted(code for code in codes if set(CODE_LABELS.get(code, {})) != {"de", "en"})
    assert not missing, missing


def test_every_kpi_explains_itself_in_english_too():
    for kpi in kpis.CATALOGUE:
        parts = ["label", "numerator", "window"] + (["denominator"] if kpi.unit != "count" else [])
        for part in parts:
            assert kpi.text(part, "en") and kpi.text(part, "de"), (kpi.id, part)
        assert kpi.text("label", "en") != kpi.text("label", "de")


def test_every_ui_text_is_defined_once():
    """TEXTS is written in several dictionaries (``TEXTS.update``): a key written twice
    silently keeps the later text, so the earlier one was dead ("choose" was)."""
    import ast

    from conftest import ROOT

    tree = ast.parse((ROOT / "dashboard" / "i18n" / "__init__.py").read_text(encoding="utf-8"))
    keys = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.AnnAssign | ast.Assign):
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == "TEXTS" for n in names):
                target = node.value
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "TEXTS.update":
            target = node.args[0]
        if isinstance(target, ast.Dict):
            keys += [k.value for k in target.keys if isinstance(k, ast.Constant)]
    assert keys and len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_what_people_read_names_no_code_table_or_setting():
    """Card tooltips, page texts and notes are in plain words: no code value of the data
    contract ("svb_beschaeftigung"), no table ("marts.teilnahmen"), no environment variable
    ("KOHORTE_SESSION_HOURS"). The README and the docs name those for administrators."""
    from dashboard.i18n import TEXTS

    codes = {code for kind in contract.KINDS.values() for c in kind.columns for code in c.codes}
    technical = re.compile(
        r"KOHORTE_\w+|\b(?:raw|staging|marts|meta|analyse)\.[a-z_]+"
        r"|\b(?:" + "|".join(sorted(c for c in codes if "_" in c)) + r")\b"
    )
    texts = [
        (kpi.id, part, lang, kpi.text(part, lang))
        for kpi in kpis.CATALOGUE
        for part in ("label", "numerator", "denominator", "window", "note")
        for lang in ("de", "en")
    ] + [(key, "", lang, text) for key, by in TEXTS.items() for lang, text in by.items()]
    found = [(key, part, lang) for key, part, lang, text in texts if technical.search(text)]
    assert not found, found


def test_each_kpi_has_exactly_one_definition():
    """The KPIs' SQL, monthly rates, labels and docs come from kohorte/define/kpis.py: no SQL
    file, page or module names a KPI by its id, and the generated SQL holds each one
    once."""
    from kohorte.build import warehouse

    generated = warehouse.render((ROOT / "sql" / "marts" / "kennzahlen.sql").read_text())
    sources = [
        *ROOT.glob("sql/**/*.sql"),
        *ROOT.glob("dashboard/**/*.py"),
        *(p for p in ROOT.glob("kohorte/**/*.py") if p.name != "kpis.py"),
        *ROOT.glob("flows/*.py"),
    ]
    facts = (ROOT / "sql" / "marts" / "teilnahmen.sql").read_text(encoding="utf-8")
    columns = set(re.findall(r"\bas (\w+)", facts))  # the analysts' dictionary names them
    for kpi in kpis.CATALOGUE:
        assert generated.count(f"'{kpi.id}' as kennzahl") == 1, kpi.id
        # a KPI is named as a string ('id' in SQL, "id" in Python); a fact column may
        # share its name (marts.teilnahmen.beschaeftigt_bei_austritt)
        quoted = (f"'{kpi.id}'",) if kpi.id in columns else (f"'{kpi.id}'", f'"{kpi.id}"')
        named = [p.name for p in sources if any(q in p.read_text(encoding="utf-8") for q in quoted)]
        assert not named, (kpi.id, named)
    docs = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for kpi in kpis.CATALOGUE:
        assert f"`{kpi.id}`" in docs and kpi.de.numerator in docs


def test_the_systemd_units_verify_and_run_commands_that_exist(tmp_path):
    """deploy/*.service|timer pass `systemd-analyze verify` (with the checkout's path for
    /opt/kohorte) and start `kohorte` commands this CLI has."""
    import shutil
    import subprocess

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    units = sorted((ROOT / "deploy").glob("kohorte*.[st]*[er]"))
    assert {u.name for u in units} == {
        "kohorte.service",
        "kohorte-alerts.service",
        "kohorte-alerts.timer",
    }
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        for started in re.findall(r"^ExecStart=\S+/kohorte (\S+)", text, re.MULTILINE):
            assert started in commands, (unit.name, started)
        (tmp_path / unit.name).write_text(text.replace("/opt/kohorte", str(ROOT)))
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_every_setting_in_the_example_environment_file_exists_and_is_documented():
    source = (ROOT / "kohorte" / "config.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / "deploy" / "kohorte.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^#?(KOHORTE_[A-Z_]+)=", example, re.MULTILINE)
    assert len(names) >= 10
    for name in names:
        assert f'"{name}"' in source, f"{name} is not read by kohorte/config.py"
        assert name in readme, f"{name} is not in the README's configuration table"
