"""Shared fixtures: a KOHORTE_HOME per test, and warehouses built once per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from prefect_server import launch_early, prefect_server, stop_early  # noqa: F401

from kohorte import pipeline, warehouse
from kohorte.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE_LOAD_DATE = dt.date(2026, 3, 28)
KPI_LOAD_DATE = dt.date(2026, 6, 30)
TEST_KEY = "test-pseudonym-key"


def pytest_configure(config: pytest.Config) -> None:
    """Keep Prefect's state of the test session out of ~/.prefect and off the network."""
    import tempfile

    prefect_home = Path(tempfile.mkdtemp(prefix="kohorte-prefect-"))
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the session's Prefect server as soon as we know a test will need it (only
    without workers: with pytest-xdist each worker that needs it starts its own)."""
    launch_early(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_early()


def run_app(principal=None, query: dict | None = None):
    """The dashboard in Streamlit's AppTest, for a signed-in ``principal`` (None: nobody
    signed in) and with URL query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    if principal is not None:
        at.session_state["principal"] = principal
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def make_settings(home: Path) -> Settings:
    """Settings rooted in ``home`` with a fixed pseudonym key."""
    settings = Settings(home=home, pseudonym_key_env=TEST_KEY)
    settings.ensure_dirs()
    return settings


def deliver(settings: Settings, *files: Path) -> list[Path]:
    """Copy files into the inbox as a Jobcenter would drop them."""
    copied = []
    for file in files:
        target = settings.inbox / file.name
        shutil.copy2(file, target)
        copied.append(target)
    return copied


def load(settings: Settings, load_date: dt.date) -> dict:
    """Run the nightly steps once (without Prefect) and return the run summary."""
    run, _ = pipeline.run_once(settings, load_date)
    return run


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh KOHORTE_HOME; code that calls load_settings() sees it too."""
    home = tmp_path / "home"
    monkeypatch.setenv("KOHORTE_HOME", str(home))
    monkeypatch.setenv("KOHORTE_PSEUDONYM_KEY", TEST_KEY)
    return make_settings(home)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The committed sample, loaded and published once for the whole session."""
    settings = make_settings(tmp_path_factory.mktemp("sample") / "home")
    deliver(settings, *sorted(SAMPLE.iterdir()))
    load(settings, SAMPLE_LOAD_DATE)
    return settings


@pytest.fixture(scope="session")
def sample_warehouse(sample_settings: Settings) -> Path:
    """Path of the published sample warehouse."""
    path = warehouse.current_path(sample_settings)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def kpi_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-computed KPI fixture (tests/fixtures/kpi/README.md), loaded once."""
    settings = make_settings(tmp_path_factory.mktemp("kpi") / "home")
    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    load(settings, KPI_LOAD_DATE)
    return settings


@pytest.fixture
def env_home(settings: Settings) -> dict[str, str]:
    """Environment for subprocesses that should use this test's KOHORTE_HOME."""
    env = dict(os.environ)
    env.update(settings.prefect_env())
    env["KOHORTE_HOME"] = str(settings.home)
    env["KOHORTE_PSEUDONYM_KEY"] = TEST_KEY
    return env
