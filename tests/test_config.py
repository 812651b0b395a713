"""Settings and the pseudonymisation key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kohorte.config import Settings, load_settings
from kohorte.define.privacy import pseudonym


def test_key_is_generated_once_with_owner_only_permissions(tmp_path):
    settings = Settings(home=tmp_path)
    key = settings.pseudonym_key()
    key_file = tmp_path / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(key) == 64
    assert Settings(home=tmp_path).pseudonym_key() == key  # stable across runs


def test_a_key_created_by_a_parallel_task_in_between_wins(tmp_path, monkeypatch):
    """The race of the first run: another task creates the key after our existence check."""
    settings = Settings(home=tmp_path)
    first = settings.pseudonym_key()
    monkeypatch.setattr(Path, "exists", lambda self: False)  # we checked before it existed
    assert settings.pseudonym_key() == first
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["pseudonym.key"]


def test_pseudonyms_depend_on_the_key_and_ignore_case_and_spaces():
    assert pseudonym(b"a", " 012d000001 ") == pseudonym(b"a", "012D000001")
    assert pseudonym(b"a", "012D000001") != pseudonym(b"b", "012D000001")
    assert len(pseudonym(b"a", "012D000001")) == 16


def test_kohorte_home_roots_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("KOHORTE_HOME", str(tmp_path / "h"))
    settings = load_settings()
    for folder in (settings.inbox, settings.raw, settings.quarantine, settings.warehouse):
        assert folder.is_relative_to(tmp_path / "h")
    assert settings.prefect_env()["PREFECT_HOME"] == str(tmp_path / "h" / "prefect")
    assert settings.prefect_env()["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_task_runner_is_default_dask_or_refused(monkeypatch):
    monkeypatch.delenv("KOHORTE_TASK_RUNNER", raising=False)
    assert load_settings().task_runner == "default"
    monkeypatch.setenv("KOHORTE_TASK_RUNNER", "Dask")
    assert load_settings().task_runner == "dask"
    monkeypatch.setenv("KOHORTE_TASK_RUNNER", "ray")  # a typo must not silently run default
    with pytest.raises(ValueError, match="KOHORTE_TASK_RUNNER"):
        load_settings()
