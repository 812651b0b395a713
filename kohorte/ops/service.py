"""Service mode: one command runs everything a Jobcenter server needs, and keeps it running.

``kohorte serve`` starts, on ``KOHORTE_HOST`` (127.0.0.1 by default):

1. a Prefect server with its SQLite database under ``KOHORTE_HOME/prefect`` and the
   database vacuum on (old flow runs, their logs and events are deleted), and beside it
   the dashboard, which needs no Prefect;
2. once the server is healthy, the process work pool ``kohorte`` and the deployments from
   ``prefect.yaml`` (nightly load at 02:00, retention at 03:30, the monthly report on the
   first at 06:00, Europe/Berlin), registered
   again only when they changed (``state/deployed.json``);
3. a process worker that runs those flows from this checkout.

It supervises them: a child that exits is logged and restarted, with a back-off that
doubles up to a minute (a child that ran for five minutes starts again at one second).
Every minute it runs the alert watchdog (``kohorte.ops.alerts.watch``), which needs neither
Prefect nor the dashboard, so a night missed because Prefect was down is still reported.
SIGINT (Ctrl-C) or SIGTERM stops every child's process group: SIGTERM, and SIGKILL after
``STOP_GRACE`` seconds. ``state/service.json`` tells ``kohorte status`` what runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.resources
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from kohorte.config import Settings
from kohorte.ops import alerts, schedule
from kohorte.store import rawstore

# The folder that holds the shells (``flows/``, ``dashboard/``): the checkout, or
# site-packages for an installed wheel. Found, not imported: the core imports no shell.
ROOT = Path(importlib.util.find_spec("flows").origin).resolve().parent.parent
STOP_GRACE = 8.0  # seconds between SIGTERM and SIGKILL when stopping
STARTUP_TIMEOUT = 180.0  # seconds for the Prefect server to become healthy (2 cores: ~25 s)
MAX_BACKOFF = 60.0
STABLE_AFTER = 300.0  # a child up this long has its back-off reset
WATCH_EVERY = 60.0  # seconds between alert checks
WORK_POOL = "kohorte"  # prefect.yaml's deployments run in it
PROXY = "haproxy"  # Debian's HAProxy (`make proxy` installs it)
PROXY_TEMPLATE = importlib.resources.files("kohorte.ops") / "haproxy.cfg"
log = logging.getLogger("kohorte.ops.service")


@dataclass
class Child:
    """A supervised process: how to start it and what happened to it."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    due: float = 0.0  # when a crashed child may start again
    last_exit: int | None = None
    history: list[str] = field(default_factory=list)


def prefect_env(settings: Settings) -> dict[str, str]:
    """The environment of every child: Prefect offline with its state under KOHORTE_HOME,
    pointed at this installation's server, database vacuum on. PREFECT_* variables set by
    the operator win (e.g. PREFECT_SERVER_DATABASE_CONNECTION_URL for PostgreSQL)."""
    env = dict(os.environ)
    for name, value in settings.prefect_env().items():
        if name != "PREFECT_LOGGING_LEVEL":  # the service's logs keep Prefect's INFO
            env.setdefault(name, value)
    env.setdefault("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", '["events", "flow_runs"]')
    env.update(
        {
            "KOHORTE_HOME": str(settings.home),
            "PREFECT_API_URL": api_url(settings),
            "PREFECT_SERVER_API_HOST": settings.service_host,
            "PREFECT_SERVER_API_PORT": str(settings.prefect_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def deploy_fingerprint() -> str:
    """What the registered deployments come from: prefect.yaml, the folder the worker runs
    the flows from, and Prefect's version."""
    parts = (schedule.PREFECT_YAML.read_text(encoding="utf-8"), str(ROOT), version("prefect"))
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _api(url: str, body: dict | None = None, timeout: float = 10.0) -> object | None:
    """The JSON answer of a GET (or, with ``body``, a POST) to the Prefect server's API;
    None when it does not answer with 200."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
            return json.loads(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, ValueError):
        return None


def api_url(settings: Settings) -> str:
    return f"http://{settings.service_host}:{settings.prefect_port}/api"


def dashboard_url(settings: Settings) -> str:
    return f"http://{settings.service_host}:{settings.dashboard_port}"


def dashboard_ports(settings: Settings) -> list[int]:
    """Where the dashboard processes listen: on KOHORTE_PORT itself when there is one, else
    on the ports after it, behind the proxy on KOHORTE_PORT."""
    if settings.dashboard_processes == 1:
        return [settings.dashboard_port]
    return [settings.dashboard_port + i for i in range(1, settings.dashboard_processes + 1)]


def proxy_config(settings: Settings) -> str:
    """HAProxy's configuration (kohorte/ops/haproxy.cfg) for this service."""
    servers = "\n".join(
        f"    server dashboard-{i} 127.0.0.1:{port} cookie d{i} check inter 5s"
        for i, port in enumerate(dashboard_ports(settings), start=1)
    )
    text = PROXY_TEMPLATE.read_text(encoding="utf-8")
    return (
        text.replace("{host}", settings.service_host)
        .replace("{port}", str(settings.dashboard_port))
        .replace("{servers}", servers)
    )


def healthy(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local)
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class Supervisor:
    """Starts, watches, restarts and stops the service's children."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = prefect_env(settings)
        self.logs = settings.home / "logs"
        self.stopping = False
        python = sys.executable
        self.server = Child(
            "prefect-server",
            [python, "-m", "prefect", "server", "start", "--host", settings.service_host,
             "--port", str(settings.prefect_port)],
        )  # fmt: skip
        self.worker = Child(
            "worker",
            [python, "-m", "prefect", "worker", "start", "--pool", WORK_POOL, "--type",
             "process", "--name", "kohorte-worker"],
        )  # fmt: skip
        ports = dashboard_ports(settings)
        self.dashboards = [
            Child(
                "dashboard" if len(ports) == 1 else f"dashboard-{i}",
                [
                    python,
                    "-m",
                    "kohorte.cli",
                    "dashboard",
                    "--port",
                    str(port),
                    "--address",
                    settings.service_host if len(ports) == 1 else "127.0.0.1",
                ],
            )  # fmt: skip
            for i, port in enumerate(ports, start=1)
        ]
        self.proxy_file = settings.state / "haproxy.cfg"
        # master-worker in the foreground (-W -db): stopped and restarted like the others
        self.proxies = (
            [Child("proxy", [PROXY, "-W", "-db", "-f", str(self.proxy_file)])]
            if len(ports) > 1
            else []
        )
        self.children = [self.server, self.worker, *self.dashboards, *self.proxies]

    # --- lifecycle -----------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGINT/SIGTERM; returns the exit code."""
        self.settings.ensure_dirs()
        self.logs.mkdir(parents=True, exist_ok=True)
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            # the dashboard needs no Prefect: it starts beside the server, not after it
            self._start(self.server)
            if self.proxies:
                self.settings.state.mkdir(parents=True, exist_ok=True)
                self.proxy_file.write_text(proxy_config(self.settings), encoding="utf-8")
            for child in [*self.dashboards, *self.proxies]:
                self._start(child)
            if not self._wait_healthy():
                log.error("Prefect server not healthy after %s s; see logs/", STARTUP_TIMEOUT)
                return 1
            if not self.stopping:
                self._deploy()
            if not self.stopping:
                self._start(self.worker)
            self._loop()
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame) -> None:
        log.info("Signal %s: stopping all services", signal.Signals(signum).name)
        self.stopping = True

    def _start(self, child: Child) -> None:
        with (self.logs / f"{child.name}.log").open("ab") as out:
            child.proc = subprocess.Popen(
                child.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        child.started = time.monotonic()
        log.info("%s started (pid %s)", child.name, child.proc.pid)
        self._write_state()

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            if healthy(f"{api_url(self.settings)}/health"):
                return True
            if self.server.proc is not None and self.server.proc.poll() is not None:
                return False
            time.sleep(1)
        return self.stopping

    def _deploy(self) -> None:
        """Work pool and deployments, as ``make deploy`` does: on the first start, and on
        every start after prefect.yaml, the checkout's folder or Prefect's version changed,
        or the server lost them (a new database). Otherwise they stand as registered, and
        a restart saves two Prefect commands (5 s on two cores)."""
        fingerprint = deploy_fingerprint()
        if self._registered(fingerprint):
            alerts.mark_scheduled(self.settings)
            log.info("Deployments unchanged since they were registered: kept as they are")
            return
        env = {**self.env, "PWD": str(ROOT)}
        with (self.logs / "deploy.log").open("ab") as out:
            for argv in (
                [sys.executable, "-m", "prefect", "work-pool", "create", WORK_POOL, "--type",
                 "process", "--overwrite"],
                [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all",
                 "--prefect-file", str(schedule.PREFECT_YAML)],
            ):  # fmt: skip
                done = subprocess.run(
                    argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
                )
                if done.returncode != 0:
                    log.error("%s failed (%s); see logs/deploy.log", argv[3], done.returncode)
                    return
        record = {"fingerprint": fingerprint, "api_url": api_url(self.settings)}
        rawstore.atomic_write_text(self._deployed_file, json.dumps(record))
        alerts.mark_scheduled(self.settings)
        log.info(
            "Deployments registered: nightly 02:00, retention 03:30, monatsbericht on the 1st "
            "at 06:00 (Europe/Berlin)"
        )

    @property
    def _deployed_file(self) -> Path:
        return self.settings.state / "deployed.json"

    def _registered(self, fingerprint: str) -> bool:
        """Whether this server holds the work pool and every deployment of prefect.yaml,
        registered from what ``fingerprint`` stands for."""
        try:
            record = json.loads(self._deployed_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        url = api_url(self.settings)
        if record != {"fingerprint": fingerprint, "api_url": url}:
            return False
        if _api(f"{url}/work_pools/{WORK_POOL}") is None:
            return False
        wanted = {d["name"] for d in schedule.deployments()}
        found = _api(
            f"{url}/deployments/filter", {"deployments": {"name": {"any_": sorted(wanted)}}}
        )
        return found is not None and wanted == {
            d["name"] for d in found if d.get("work_pool_name") == WORK_POOL
        }

    def _loop(self) -> None:
        next_watch = time.monotonic()
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                self._supervise(child, now)
            if now >= next_watch:
                next_watch = now + WATCH_EVERY
                try:
                    alert = alerts.watch(self.settings)
                except Exception:  # the watchdog must never take the service down
                    log.exception("Alert check failed")
                else:
                    if alert is not None:
                        log.warning("Alert: %s", alert.text())
            time.sleep(0.5)

    def _supervise(self, child: Child, now: float) -> None:
        if child.proc is None:
            if child.due and now >= child.due and not self.stopping:
                child.due = 0.0
                child.restarts += 1
                self._start(child)
            return
        code = child.proc.poll()
        if code is None:
            if now - child.started > STABLE_AFTER:
                child.backoff = 1.0
            return
        child.last_exit = code
        child.proc = None
        child.due = now + child.backoff
        entry = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} exit {code}"
        child.history = [*child.history[-9:], entry]
        log.warning("%s exited with code %s; restarting in %.0f s", child.name, code, child.backoff)
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)
        self._write_state()

    def stop(self) -> None:
        """Stop every child's process group: SIGTERM, then SIGKILL after the grace time."""
        self.stopping = True
        running = [c for c in reversed(self.children) if c.proc is not None]
        for child in running:
            _signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in running:
            while child.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if child.proc.poll() is None:
                log.warning("%s did not stop in %s s: SIGKILL", child.name, STOP_GRACE)
            _signal_group(child.proc, signal.SIGKILL)  # also stray grandchildren
            child.proc.wait(timeout=10)
            log.info("%s stopped", child.name)
            child.proc = None
        self._write_state()

    # --- state for `kohorte status` --------------------------------------------------------

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "running": not self.stopping,
            "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "api_url": api_url(self.settings),
            "dashboard_url": dashboard_url(self.settings),
            "children": {
                c.name: {
                    "pid": c.proc.pid if c.proc is not None else None,
                    "restarts": c.restarts,
                    "last_exit": c.last_exit,
                    "history": c.history,
                }
                for c in self.children
            },
        }
        self.settings.state.mkdir(parents=True, exist_ok=True)
        rawstore.atomic_write_text(self.settings.state / "service.json", json.dumps(state))


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started:
    SIGTERM to its group, SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait(timeout=10)


def serve(settings: Settings) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[
            logging.StreamHandler(sys.stderr),
            logging.FileHandler(_ensure(settings.home / "logs") / "service.log"),
        ],
    )
    log.info(
        "Kohorte service: Prefect %s, dashboard %s, home %s",
        api_url(settings),
        dashboard_url(settings),
        settings.home,
    )
    return Supervisor(settings).run()


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- `kohorte status` ----------------------------------------------------------------------


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(settings: Settings, prefect_runs: Callable[[str], dict] | None = None) -> dict:
    """What runs, the last nightly run and its result, the next scheduled one, the alert.

    ``prefect_runs(api_url)`` asks Prefect about the nightly deployment (the Prefect shell,
    ``flows/status.py``, provides it; this package does not import Prefect)."""
    state_file = settings.state / "service.json"
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    url = state.get("api_url") or api_url(settings)
    report: dict = {
        "service": {
            "supervisor": _alive(state.get("pid")) and state.get("running", False),
            "pid": state.get("pid"),
            "prefect_api": url,
            "prefect_healthy": healthy(f"{url}/health"),
            "dashboard": state.get("dashboard_url") or dashboard_url(settings),
            "dashboard_healthy": healthy(
                f"{state.get('dashboard_url') or dashboard_url(settings)}/_stcore/health"
            ),
            "children": {
                name: {**child, "alive": _alive(child.get("pid"))}
                for name, child in state.get("children", {}).items()
            },
        }
    }
    runs = _run_log(settings)
    report["last_run"] = runs[-1] if runs else None
    healthy_server = report["service"]["prefect_healthy"]
    report["prefect"] = prefect_runs(url) if prefect_runs and healthy_server else None
    alert = alerts.check(settings)
    report["alert"] = alert.text() if alert else None
    return report


def _run_log(settings: Settings) -> list[dict]:
    from kohorte.store import runlog

    keep = ("run_id", "status", "started_at", "finished_at", "as_of", "message", "warehouse")
    return [{k: r.get(k) for k in keep} for r in runlog.read_runs(settings)]


def render_status(report: dict) -> str:
    """``kohorte status`` for people: German, one fact per line."""
    service = report["service"]
    yes = {True: "läuft", False: "läuft nicht"}
    lines = [
        f"Dienst (kohorte serve): {yes[bool(service['supervisor'])]}"
        + (f", PID {service['pid']}" if service["supervisor"] else ""),
        f"Prefect-Server {service['prefect_api']}: "
        f"{'erreichbar' if service['prefect_healthy'] else 'nicht erreichbar'}",
        f"Dashboard {service['dashboard']}: "
        f"{'erreichbar' if service['dashboard_healthy'] else 'nicht erreichbar'}",
    ]
    for name, child in service["children"].items():
        restarts = f", {child['restarts']} Neustarts" if child.get("restarts") else ""
        lines.append(f"  {name}: {yes[child['alive']]}{restarts}")
    last = report["last_run"]
    if last:
        lines.append(
            f"Letzte Ladung: {last['run_id']} {last['status']}"
            + (f", Datenstand {last['as_of']}" if last.get("as_of") else "")
            + (f" ({last['message']})" if last.get("message") else "")
        )
    else:
        lines.append("Letzte Ladung: noch keine")
    prefect = report["prefect"]
    if prefect and prefect.get("deployed"):
        lines.append(f"Zeitplan nightly: {prefect['schedule']}")
        if prefect["last"]:
            end = prefect["last"]["end"]
            lines.append(
                f"Letzter Prefect-Lauf: {prefect['last']['name']} {prefect['last']['state']}"
                + (f" (Ende {alerts.local_time(end)})" if end else "")
            )
        if prefect["next"]:
            lines.append(f"Nächster Lauf: {alerts.local_time(prefect['next']['expected_start'])}")
    elif prefect is not None:
        lines.append("Zeitplan nightly: nicht angelegt (kohorte serve legt ihn an)")
    lines.append(f"Warnung: {report['alert']}" if report["alert"] else "Warnung: keine")
    return "\n".join(lines)
