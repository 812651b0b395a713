"""Shared fixtures: a KOHORTE_HOME per test, and warehouses built once per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prefect_server import launch_early, prefect_server, stop_early  # noqa: F401

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.run import pipeline

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
    settings = Settings(home=home, pseudonym_key_env=TEST_KEY, settle_seconds=0)
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
    monkeypatch.setenv("KOHORTE_SETTLE_SECONDS", "0")  # test files are complete when copied
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


@dataclass
class Receivers:
    """A local webhook receiver and SMTP sink; what they received, in order."""

    webhook_url: str
    smtp_port: int
    posts: list = field(default_factory=list)
    mails: list = field(default_factory=list)
    handler: object = None
    smtp: object = None

    def start_smtp(self) -> None:
        """(Re)start the mail server; aiosmtpd's controller cannot restart, so a new one."""
        from aiosmtpd.controller import Controller

        self.smtp = Controller(self.handler, hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    def stop_smtp(self) -> None:
        self.smtp.stop()
        self.smtp = None


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch):
    """Alert channels pointed at local receivers (through the environment, as an operator
    configures them): an HTTP server taking JSON POSTs and aiosmtpd as the mail server."""
    import json
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts: list = []
    mails: list = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:
            mails.append(envelope)
            return "250 OK"

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{http.server_port}/kohorte"
    monkeypatch.setenv("KOHORTE_ALERT_WEBHOOK", url)
    monkeypatch.setenv("KOHORTE_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KOHORTE_ALERT_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("KOHORTE_ALERT_EMAIL_TO", "teamleitung@jobcenter.example")
    found = Receivers(url, smtp_port, posts, mails, Sink())
    found.start_smtp()
    try:
        yield found
    finally:
        if found.smtp is not None:
            found.stop_smtp()
        http.shutdown()
        http.server_close()
