"""Shared fixtures: a KOHORTE_HOME per test, and warehouses built once per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Write bytecode caches even where PYTHONDONTWRITEBYTECODE is set (as on the CI machines):
# the suite starts hundreds of Python processes (sandbox queries, the CLI, the Prefect server
# and its commands, Dask workers, Streamlit), and without caches each one compiles Prefect,
# DuckDB's, pandas' and Streamlit's sources again: 10 s instead of 4 s for those imports.
# Set before the imports below and inherited by every worker and subprocess.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    sys.dont_write_bytecode = False

import prefect_server as server_of_the_session  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from prefect_server import prefect_server  # noqa: E402, F401

from kohorte.build import warehouse  # noqa: E402
from kohorte.config import Settings  # noqa: E402
from kohorte.run import pipeline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE_LOAD_DATE = dt.date(2026, 3, 28)
KPI_LOAD_DATE = dt.date(2026, 6, 30)
TEST_KEY = "test-pseudonym-key"


# Examples per property test (tests/test_reference.py), each one to four loads through the
# nightly steps: five in the suite (derandomized, so the same five programmes every run),
# three in `make check` (pytest --hypothesis-profile=check).
hypothesis_settings.register_profile("suite", max_examples=5)
hypothesis_settings.register_profile("check", max_examples=2)
hypothesis_settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """Keep Prefect's state of the test session out of ~/.prefect and off the network."""
    import tempfile

    prefect_home = Path(tempfile.mkdtemp(prefix="kohorte-prefect-"))
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    server_of_the_session.configure(config)


# --- marks, groups and order (see the markers in pyproject.toml) ----------------------------

# Tests that attack the analysts' sandbox, which must stop them by its limits: escapes,
# runaway queries and a parser bomb (killed at the time limit), a memory-hungry query;
# fault injection, each query a process of its own. tests/test_sandbox.py is marked here,
# by name, so that its owner's file stays as it is.
FAULT_TESTS = (
    "tests/test_sandbox.py::test_at_least_25_escapes_are_refused_with_a_clear_message",
    "tests/test_sandbox.py::test_runaway_queries_are_stopped",
    "tests/test_sandbox.py::test_memory_hungry_query_is_refused",
    "tests/test_sandbox.py::test_parsing_happens_in_the_query_process_within_its_time_limit",
)

# The longest work first, so that no long file starts last on one worker while the other
# has nothing left: xdist hands out work in collection order (--no-loadscope-reorder), and
# conftest's scheduler below gives a worker busy with one of the LONG files only the
# smallest work from the end of the queue to hold next. Seconds, measured on two busy cores;
# unlisted files follow in their usual order.
HEAVY_FIRST = {
    "tests/e2e/test_service.py": 150,
    "tests/e2e/test_dashboard_browser.py": 145,
    "tests/test_flow.py": 95,  # with test_deploy.py: the Prefect server's group, 130 s
    "tests/test_deploy.py": 35,
    "tests/test_faults.py": 55,
    "tests/test_reference.py": 80,
    "tests/e2e/test_loadtest.py": 30,
    "tests/test_sandbox.py": 55,  # split over the workers
    "tests/test_bench.py": 20,
    "tests/test_wirkung_coverage.py": 50,  # two tests of 25 s, one on each worker
    "tests/test_wirkung.py": 45,  # a load with 500 resamples per scope, then its tests
}
LONG = 100  # seconds


# One worker runs the tests that use the Prefect server, one after the other: they read
# back the latest artifact and the flow runs of the one server they share. The fault tests
# merge their figures into one artifact (test-artifacts/faults.json).
GROUPS = {
    "tests/test_flow.py": "prefect-server",
    "tests/test_deploy.py": "prefect-server",
    "tests/test_faults.py": "tests/test_faults.py",
}
# Files whose module fixtures are cheap: their tests may run on both workers.
SPLIT = {"tests/test_sandbox.py"}
GROUPS_FILE = "groups.json"  # in the folder the xdist controller shares with its workers


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """Which tests must run on one worker, by group: the tests of a file with a fixture
    built for the module (or a session fixture of its own), so it is built once; the
    files of GROUPS. Every other test goes to whichever worker is free."""
    shared_fixtures = {
        definition.baseid
        for item in items
        for definitions in item._fixtureinfo.name2fixturedefs.values()
        for definition in definitions
        if definition.scope != "function"
    }
    groups = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module in GROUPS:
            groups[item.nodeid] = GROUPS[module]
        elif module in shared_fixtures and module not in SPLIT:
            groups[item.nodeid] = module
    return groups


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark (``server`` for every test that uses the Prefect server; ``fault`` as above),
    group and order the tests."""
    for item in items:
        if "prefect_server" in item.fixturenames:
            item.add_marker(pytest.mark.server)
        if item.nodeid.split("[", 1)[0] in FAULT_TESTS:
            item.add_marker(pytest.mark.fault)
    order = {path: rank for rank, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: order.get(item.nodeid.split("::", 1)[0], len(order)))
    shared = os.environ.get(server_of_the_session.SHARED_DIR_ENV)
    if shared and os.environ.get("PYTEST_XDIST_WORKER"):
        import json
        import tempfile

        with tempfile.NamedTemporaryFile("w", dir=shared, delete=False) as partial:
            json.dump(_groups(items), partial)
        os.replace(partial.name, Path(shared) / GROUPS_FILE)  # every worker writes the same


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the session's Prefect server as soon as we know a test will need it: after
    ``-m`` and ``-k`` have deselected (``make check`` deselects every server test, and
    starting one for nobody cost it 5 s of CPU), and before an xdist worker reports its
    collection, so the controller, which starts one server for all workers, knows."""
    server_of_the_session.launch_early(session.items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup`` with the groups of ``_groups``. (xdist 3.8 groups by a suffix
    it appends to the node id, which pytest 9 no longer lets it change, so its own
    loadgroup hands out every test on its own.) The groups come from the workers, which
    collect; scopes are handed out in collection order, the longest first (HEAVY_FIRST)."""
    if config.option.dist != "loadgroup":
        return None
    import json

    from xdist.scheduler import LoadScopeScheduling

    groups_file = Path(os.environ[server_of_the_session.SHARED_DIR_ENV]) / GROUPS_FILE

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if "@" in nodeid:  # an xdist that can mark groups itself
                return nodeid.rsplit("@", 1)[-1]
            if self.groups is None:  # read once the workers have collected
                self.groups = json.loads(groups_file.read_text())
            return self.groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node) -> None:
            """The next unit from the front of the queue (the longest first); but a worker
            busy with a LONG file, which holds what it gets until that is done, gets the
            last (smallest) unit instead."""
            pending = [
                nodeid
                for unit in self.assigned_work.get(node, {}).values()
                for nodeid, done in unit.items()
                if not done
            ]
            busy = any(HEAVY_FIRST.get(n.split("::", 1)[0], 0) >= LONG for n in pending)
            scope, work_unit = self.workqueue.popitem(last=busy)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            collection = self.registered_collections[node]
            node.send_runtest_some(
                [collection.index(nodeid) for nodeid, done in work_unit.items() if not done]
            )

    return GroupScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    server_of_the_session.controller_collected()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    server_of_the_session.stop_early()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> None:
    """argon2 with its least cost in this process: the production parameters cost 0,11 s
    a hash, and the sign-in and lockout tests hash dozens (Django's tests do the same with
    a fast hasher). Subprocesses (``kohorte user ...``) keep the real parameters, and
    ``test_accounts`` checks that the module's own hasher has them."""
    from argon2 import PasswordHasher

    from kohorte.ops import accounts

    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    accounts._dummy_hash.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def streamlit_components_scanned_once() -> None:
    """Every new AppTest scans all installed distributions' metadata for Streamlit
    components (``manifest_scanner.scan_component_manifests``): 0,3 s each, 14 s of the
    suite. The installed packages do not change during a session, so one scan per worker
    serves every AppTest."""
    import functools

    from streamlit.components.v2 import manifest_scanner

    if not hasattr(manifest_scanner.scan_component_manifests, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(
            manifest_scanner.scan_component_manifests
        )


@pytest.fixture(scope="session", autouse=True)
def streamlit_configured_as_served() -> None:
    """AppTest reads no configuration file: give it the served dashboard's own
    (dashboard/.streamlit/config.toml), so a page is tested as it is served (without
    magic, for one)."""
    import tomllib

    from streamlit import config

    served = tomllib.loads((ROOT / "dashboard" / ".streamlit" / "config.toml").read_text())
    for section, options in served.items():
        for name, value in options.items():
            config.set_option(f"{section}.{name}", value)


def run_app(principal=None, query: dict | None = None, page: str | None = None):
    """The dashboard in Streamlit's AppTest, for a signed-in ``principal`` (None: nobody
    signed in) and with URL query parameters, opened on ``page`` (``"views/sql.py"``; the
    default page if None), as a bookmark of that page opens it."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    if principal is not None:
        at.session_state["principal"] = principal
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page is not None:  # our pages' url paths are their file names, which AppTest knows
        at.switch_page(page)
    return at.run()


def chart_frames(at) -> list:
    """The data of every chart on an AppTest page, as the browser receives it (Arrow)."""
    import pyarrow as pa

    return [
        pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
        for chart in at.get("vega_lite_chart")
        for dataset in chart.proto.datasets
    ]


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


def copy_home(source: Settings, target: Settings) -> Settings:
    """``target`` with a copy of ``source``'s loaded home (raw store, run logs, quarantine,
    published warehouse): what loading the same files again would give, in a few
    milliseconds instead of a load. The pointer to the warehouse is a relative link, and
    nothing in a home names its own folder, so the copy works where it is."""
    shutil.copytree(source.home, target.home, symlinks=True, dirs_exist_ok=True)
    return target


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh KOHORTE_HOME; code that calls load_settings() sees it too."""
    home = tmp_path / "home"
    monkeypatch.setenv("KOHORTE_HOME", str(home))
    monkeypatch.setenv("KOHORTE_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("KOHORTE_SETTLE_SECONDS", "0")  # test files are complete when copied
    return make_settings(home)


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The committed sample, loaded and published once per worker. No test changes it:
    tests get copies (``copy_home``), ``sample_settings`` being one."""
    settings = make_settings(tmp_path_factory.mktemp("sample-template") / "home")
    deliver(settings, *sorted(SAMPLE.iterdir()))
    load(settings, SAMPLE_LOAD_DATE)
    return settings


@pytest.fixture(scope="session")
def sample_settings(sample_template: Settings, tmp_path_factory) -> Settings:
    """The committed sample, loaded and published, for the whole session."""
    return copy_home(sample_template, make_settings(tmp_path_factory.mktemp("sample") / "home"))


@pytest.fixture(scope="session")
def sample_warehouse(sample_settings: Settings) -> Path:
    """Path of the published sample warehouse."""
    path = warehouse.current_path(sample_settings)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def kpi_template(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-computed KPI fixture (tests/fixtures/kpi/README.md), loaded once per worker.
    No test changes it: tests get copies (``copy_home``), ``kpi_settings`` being one."""
    settings = make_settings(tmp_path_factory.mktemp("kpi-template") / "home")
    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    load(settings, KPI_LOAD_DATE)
    return settings


@pytest.fixture(scope="session")
def kpi_settings(kpi_template: Settings, tmp_path_factory) -> Settings:
    """The hand-computed KPI fixture, loaded once, for the whole session."""
    return copy_home(kpi_template, make_settings(tmp_path_factory.mktemp("kpi") / "home"))


@pytest.fixture
def kpi_home(settings: Settings, kpi_template: Settings) -> Settings:
    """This test's own KOHORTE_HOME (``settings``) with the KPI fixture delivered and
    loaded at KPI_LOAD_DATE: a copy of the worker's load, to change as the test likes."""
    return copy_home(kpi_template, settings)


@pytest.fixture
def sample_home(settings: Settings, sample_template: Settings) -> Settings:
    """This test's own KOHORTE_HOME with the sample delivered and loaded at
    SAMPLE_LOAD_DATE: a copy of the worker's load."""
    return copy_home(sample_template, settings)


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
