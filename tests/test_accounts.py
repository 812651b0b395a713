"""Local accounts, the sign-in page and the audit log."""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest
from conftest import run_app
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from kohorte.cli import app
from kohorte.ops import accounts, audit
from kohorte.read.access import Principal

PASSWORD = "richtig-langes-passwort"


def test_passwords_are_stored_as_argon2_hashes_only(settings):
    accounts.add_user(settings, "tl", "teamleitung", PASSWORD)
    text = settings.users_file.read_text()
    assert PASSWORD not in text
    assert json.loads(text)["tl"]["hash"].startswith("$argon2id$")
    assert stat.S_IMODE(settings.users_file.stat().st_mode) == 0o600
    assert accounts.verify(settings, "tl", PASSWORD) == Principal("tl", "teamleitung")


def test_wrong_password_and_unknown_name_fail_alike(settings):
    accounts.add_user(settings, "tl", "teamleitung", PASSWORD)
    for name, password in (("tl", "falsch-falsch"), ("niemand", PASSWORD)):
        with pytest.raises(accounts.SignInFailed) as failed:
            accounts.verify(settings, name, password)
        assert str(failed.value) == "Name oder Passwort falsch"


def test_lockout_after_repeated_failures_even_for_the_right_password(settings):
    accounts.add_user(settings, "tl", "teamleitung", PASSWORD)
    for _ in range(settings.lockout_attempts - 1):
        with pytest.raises(accounts.SignInFailed):
            accounts.verify(settings, "tl", "falsch-falsch")
    with pytest.raises(accounts.Locked):
        accounts.verify(settings, "tl", "falsch-falsch")
    with pytest.raises(accounts.Locked):
        accounts.verify(settings, "tl", PASSWORD)
    accounts.set_password(settings, "tl", PASSWORD)  # the team lead's way out
    assert accounts.verify(settings, "tl", PASSWORD).role == "teamleitung"


def test_account_rules(settings):
    with pytest.raises(ValueError, match="Rolle"):
        accounts.add_user(settings, "x", "admin", PASSWORD)
    with pytest.raises(ValueError, match="Fallzuständigkeit"):
        accounts.add_user(settings, "x", "coach", PASSWORD)
    with pytest.raises(ValueError, match="10 Zeichen"):
        accounts.add_user(settings, "x", "leitung", "kurz")
    accounts.add_user(settings, "x", "leitung", PASSWORD)
    with pytest.raises(ValueError, match="schon"):
        accounts.add_user(settings, "x", "leitung", PASSWORD)
    accounts.remove_user(settings, "x")
    assert accounts.list_users(settings) == []


def test_user_commands(settings):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["user", "add", "anja", "--role", "coach", "--coach", "Anja Krüger", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["user", "list"]).output
    assert "anja\tcoach, Coach: Anja Krüger" in listed and "$argon2" not in listed
    assert (
        runner.invoke(
            app, ["user", "passwd", "anja", "--password-stdin"], input="neu-und-lang-genug\n"
        ).exit_code
        == 0
    )
    assert accounts.verify(settings, "anja", "neu-und-lang-genug").coach == "Anja Krüger"
    assert runner.invoke(app, ["user", "remove", "anja"]).exit_code == 0
    assert runner.invoke(app, ["user", "remove", "anja"]).exit_code == 2


def test_a_coach_name_is_checked_against_the_deliveries(kpi_home):
    """The KPI fixture's coaches are Anja Krüger and Jörg Weiß: a typo is refused with the
    nearest name, a new coach needs saying so."""
    runner = CliRunner()
    add = ["user", "add", "anja", "--role", "coach", "--password-stdin", "--coach"]
    typo = runner.invoke(app, [*add, "Anja Kruger"], input=PASSWORD + "\n")
    assert typo.exit_code == 2
    assert "'Anja Kruger' kommt in den Lieferungen nicht vor. Meinten Sie: Anja Krüger?" in (
        typo.output
    )
    assert accounts.list_users(kpi_home) == []
    right = runner.invoke(app, [*add, "Anja Krüger"], input=PASSWORD + "\n")
    assert right.exit_code == 0, right.output
    new = ["user", "add", "mia", "--role", "coach", "--password-stdin", "--coach", "Mia Neu"]
    assert runner.invoke(app, new, input=PASSWORD + "\n").exit_code == 2
    assert runner.invoke(app, [*new, "--new-coach"], input=PASSWORD + "\n").exit_code == 0


def test_the_module_hashes_with_argon2id_at_rfc_9106_cost():
    """Tests swap in a cheap hasher (conftest); a process of its own has the real one."""
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-c", "from kohorte.ops import accounts as a; h = a.HASHER; "
         "print(h.type.name, h.time_cost, h.memory_cost, h.parallelism)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert shown[0] == "ID" and int(shown[1]) >= 3 and int(shown[2]) >= 65536


def test_demo_account_is_created_once_and_its_password_printed_once(settings):
    runner = CliRunner()
    first = runner.invoke(app, ["user", "demo"]).output
    password = first.split("Passwort: ")[1].split()[0]
    assert accounts.verify(settings, "demo", password).role == "teamleitung"
    assert runner.invoke(app, ["user", "demo"]).output == ""


# --- the sign-in page --------------------------------------------------------------------


@pytest.fixture
def signed_up(kpi_home):
    settings = kpi_home  # the KPI fixture delivered and loaded in this test's home
    accounts.add_user(settings, "tl", "teamleitung", PASSWORD)
    return settings


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()


def test_sign_in_page_lets_the_right_password_in_and_logs_both(signed_up):
    at = run_app()
    assert at.title[-1].value == "Anmeldung" and not at.metric
    _sign_in(at, "tl", "falsch-falsch")
    assert [e.value for e in at.error] == ["Benutzername oder Passwort ist falsch."]
    assert not at.metric
    _sign_in(at, "tl", PASSWORD)
    assert not at.exception and not at.error
    assert any(m.label == "Integrationsquote" for m in at.metric)
    actions = audit.read(signed_up)["aktion"].tolist()
    assert actions[:2] == [audit.SIGN_IN, audit.SIGN_IN_FAILED]  # newest first
    assert PASSWORD not in "".join(p.read_text() for p in audit.files(signed_up))


def test_locked_account_says_so(signed_up):
    at = run_app()
    for _ in range(signed_up.lockout_attempts):
        _sign_in(at, "tl", "falsch-falsch")
    assert "gesperrt" in at.error[0].value
    _sign_in(at, "tl", PASSWORD)
    assert "gesperrt" in at.error[0].value and not at.metric


def test_the_lockout_says_until_when_in_berlin_time(signed_up, monkeypatch):
    # 23:30 UTC on 15 January is 00:30 on the 16th in Berlin: the hour and the day differ
    frozen = dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(accounts, "_now", lambda: frozen)
    at = run_app()
    for _ in range(signed_up.lockout_attempts):
        _sign_in(at, "tl", "falsch-falsch")
    until = "16.01.2026, 00:45"  # locked for lockout_minutes (15)
    assert at.error[0].value == f"Zu viele Fehlversuche: Das Konto ist bis {until} Uhr gesperrt."
    with pytest.raises(accounts.Locked, match=f"gesperrt bis {until} Uhr$"):
        accounts.verify(signed_up, "tl", PASSWORD)
    listed = CliRunner().invoke(app, ["user", "list"]).output
    assert f"tl\tteamleitung, gesperrt bis {until} Uhr" in listed


# --- the audit log -----------------------------------------------------------------------


def test_audit_chain_finds_a_changed_line(settings):
    for n in range(3):
        audit.record(settings, "tl", "teamleitung", audit.EXPORT, datei=f"x{n}.csv")
    assert audit.verify(settings) == []
    [path] = audit.files(settings)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("x1.csv", "y1.csv")
    path.write_text("\n".join(lines) + "\n")
    assert audit.verify(settings) == [f"{path.name}, Zeile 3: Kette unterbrochen"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_audit_months_older_than_the_retention_are_pruned(settings):
    settings.audit_dir.mkdir(parents=True, exist_ok=True)
    old = settings.audit_dir / "audit-2024-01.jsonl"
    recent = settings.audit_dir / "audit-2026-10.jsonl"
    old.write_text("")
    recent.write_text("")
    removed = audit.prune(settings, today=dt.date(2026, 11, 26))
    assert removed == [old] and recent.exists()
