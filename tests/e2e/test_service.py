"""Service mode end to end: `kohorte serve` from this checkout runs the Prefect server, the
deployments with their Berlin schedule, a worker and the dashboard; a run triggered by
hand lands in the dashboard (checked in Chromium); a killed child is restarted; SIGTERM
stops everything within seconds; `kohorte status` tells what runs.

Also what happens when the Prefect server is down at 02:00: the scheduled run waits as
*Late* and the worker runs it when the server is back. One test, one service: starting
it (Prefect server, deployments) is most of the cost."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES, ROOT, TEST_KEY, deliver, make_settings
from playwright.sync_api import expect, sync_playwright

from kohorte.ops import accounts, audit
from kohorte.store import runlog
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.e2e
PASSWORD = "ein-langes-dienst-passwort"
USER = "leitung-dienst"
STOP_WITHIN_S = 15


def _wait(condition, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.exists() else ""
    pytest.fail(f"{what} not reached in {timeout:.0f} s\n--- service log ---\n{tail}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Service:
    """`kohorte serve` in its own process group, and the commands an operator runs."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.prefect_port, self.port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.prefect_port}/api"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        self.env.update(
            {
                "KOHORTE_HOME": str(home),
                "KOHORTE_PSEUDONYM_KEY": TEST_KEY,
                "KOHORTE_PREFECT_PORT": str(self.prefect_port),
                "KOHORTE_PORT": str(self.port),
                # two dashboard processes behind HAProxy on KOHORTE_PORT, as on 2 cores
                "KOHORTE_DASHBOARD_PROCESSES": "2",
                "PREFECT_HOME": str(home / "prefect"),
                "PREFECT_UI_ENABLED": "false",
                # the worker asks every 2 s (default 10) and takes runs due within 2 s
                # (default 10): the test waits less for each run to be picked up
                "PREFECT_WORKER_QUERY_SECONDS": "2",
                "PREFECT_WORKER_PREFETCH_SECONDS": "2",
                "COLUMNS": "200",
            }
        )
        self.log = home / "serve.out"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kohorte.cli", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def run(self, *args: str, api: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({"PREFECT_API_URL": self.api_url} if api else {})}
        return subprocess.run(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def status(self) -> dict:
        done = self.run("kohorte.cli", "status", "--json")
        return json.loads(done.stdout)

    def state(self) -> dict:
        path = self.home / "state" / "service.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def all_up(self) -> bool:
        children = self.state().get("children", {})
        return (
            set(children) == {"prefect-server", "worker", "dashboard-1", "dashboard-2", "proxy"}
            and all(c["pid"] and _alive(c["pid"]) for c in children.values())
            and self.status()["service"]["dashboard_healthy"]
        )

    def stop(self) -> float:
        """SIGTERM as systemd sends it; seconds until the service has exited."""
        started = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
        return time.monotonic() - started


@pytest.fixture
def service(tmp_path: Path):
    home = tmp_path / "home"
    settings = make_settings(home)
    settings.ensure_dirs()
    accounts.add_user(settings, "leitung-dienst", "teamleitung", PASSWORD)
    running = Service(home)
    running.start()
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.stop()


def test_serve_runs_everything_restarts_what_crashes_stops_on_sigterm_and_catches_up(
    service: Service,
):
    _wait(service.all_up, 300, "all services up", service.home / "logs" / "service.log")
    listed = service.run("prefect", "deployment", "ls", api=True)
    assert "nightly/nightly" in listed.stdout and "retention/retention" in listed.stdout
    inspected = service.run("prefect", "deployment", "inspect", "nightly/nightly", api=True)
    assert "'cron': '0 2 * * *'" in inspected.stdout
    assert "'timezone': 'Europe/Berlin'" in inspected.stdout

    status = service.status()
    assert status["prefect"]["schedule"] == "0 2 * * * Europe/Berlin"
    upcoming = dt.datetime.fromisoformat(status["prefect"]["next"]["expected_start"])
    assert upcoming.astimezone(ZoneInfo("Europe/Berlin")).time() == dt.time(2, 0)

    # a delivery arrives and the team lead triggers the night by hand
    settings = make_settings(service.home)
    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    triggered = service.run("prefect", "deployment", "run", "nightly/nightly", api=True)
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    published = _wait(
        lambda: [r for r in runlog.read_runs(settings) if r["status"] == "published"],
        240,
        "a published run",
        service.home / "logs" / "worker.log",
    )
    run_id = published[-1]["run_id"]
    finished = _wait(
        lambda: (service.status().get("prefect") or {}).get("last"),
        60,
        "the Prefect run to finish",
        service.home / "logs" / "worker.log",
    )
    assert finished["state"] == "Completed"
    assert service.status()["last_run"]["run_id"] == run_id

    # it lands in the dashboard: the team lead sees the run on Datenstand
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{service.port}/datenstand")
        page.get_by_label(re.compile(r"^Benutzername")).fill("leitung-dienst")
        page.get_by_label(re.compile(r"^Passwort")).fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        as_of = dt.date.fromisoformat(published[-1]["as_of"]).strftime("%d.%m.%Y")
        metric = page.get_by_test_id("stMetric").filter(has_text="Datenstand")
        expect(metric.get_by_test_id("stMetricValue")).to_have_text(as_of)
        # through the proxy: the browser stays with one process (its cookie), a second
        # browser, while the first is open, is sent to the other one
        first = {c["name"]: c["value"] for c in page.context.cookies()}["kohorte_server"]
        other = browser.new_page()
        other.goto(f"http://127.0.0.1:{service.port}/")
        # the other process draws its first page cold, which on a busy machine takes
        # longer than expect's own 5 s
        expect(other.get_by_role("button", name="Anmelden")).to_be_visible(timeout=60_000)
        second = {c["name"]: c["value"] for c in other.context.cookies()}["kohorte_server"]
        assert {first, second} == {"d1", "d2"}
        browser.close()
    signed_in = [e for e in audit.read(settings).to_dict("records") if e["benutzer"] == USER]
    assert audit.SIGN_IN in [e["aktion"] for e in signed_in]  # audited through the proxy

    # a crashed dashboard process is restarted and logged
    before = service.state()["children"]["dashboard-1"]["pid"]
    os.killpg(before, signal.SIGKILL)
    _wait(
        lambda: service.state()["children"]["dashboard-1"]["restarts"] == 1 and service.all_up(),
        120,
        "the dashboard restarted",
        service.home / "logs" / "service.log",
    )
    assert service.state()["children"]["dashboard-1"]["pid"] != before
    log = (service.home / "logs" / "service.log").read_text()
    assert "dashboard-1 exited with code -9" in log

    # the Prefect server is down at 02:00: a run planned in Prefect's database (as the
    # scheduler plans the 02:00 run ahead of time) falls due while everything is stopped
    # (far enough ahead that the worker's 2 s prefetch cannot take it before the stop,
    # which takes 3 to 7 s from here: the command that plans it, the status and the stop)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    planned = service.run(
        "prefect", "deployment", "run", "nightly/nightly", "--start-at",
        due.isoformat(timespec="seconds"), api=True,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stdout + planned.stderr
    late_run = re.search(r"flow-run/([0-9a-f-]{36})", planned.stdout).group(1)

    pids = [c["pid"] for c in service.state()["children"].values()]
    seconds = service.stop()  # SIGTERM, as systemd sends it
    assert seconds < STOP_WITHIN_S, seconds
    assert service.proc.returncode == 0
    assert not any(_alive(pid) for pid in pids)
    stopped = service.status()
    assert not stopped["service"]["supervisor"] and not stopped["service"]["prefect_healthy"]
    time.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()) + 3)
    runs_before = len(runlog.read_runs(settings))

    service.start()  # back after the outage: the worker catches the late run up
    caught_up = _wait(
        lambda: (
            len([r for r in runlog.read_runs(settings) if r["status"] == "published"])
            > len(published)
        ),
        300,
        "the late run published",
        service.home / "logs" / "worker.log",
    )
    assert caught_up and runs_before == len(published)  # nothing ran while it was down
    # the second start found its deployments as the first registered them: not again
    service_log = (service.home / "logs" / "service.log").read_text()
    assert service_log.count("Deployments registered") == 1
    assert "Deployments unchanged since they were registered" in service_log
    inspected = service.run("prefect", "flow-run", "inspect", late_run, api=True)
    assert "COMPLETED" in inspected.stdout, inspected.stdout[-2000:]


def test_the_proxy_configuration_is_valid_for_haproxy(tmp_path: Path):
    """What `kohorte serve` writes for N dashboard processes passes HAProxy's own check."""
    import dataclasses

    from kohorte.ops import service

    settings = dataclasses.replace(make_settings(tmp_path / "home"), dashboard_processes=3)
    assert service.dashboard_ports(settings) == [8502, 8503, 8504]
    config = tmp_path / "haproxy.cfg"
    config.write_text(service.proxy_config(settings), encoding="utf-8")
    assert "bind 127.0.0.1:8501" in config.read_text()
    checked = subprocess.run(
        [service.PROXY, "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    one = dataclasses.replace(settings, dashboard_processes=1)
    assert service.dashboard_ports(one) == [8501]  # one process: no proxy in front
