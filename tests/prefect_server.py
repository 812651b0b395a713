"""A real Prefect server for the session: `prefect server start` in its own process group.

Started once (about 15 s on two cores) and shared: the deployment tests talk to it through
subprocesses with an explicit environment, the flow tests through Prefect's
``temporary_settings``; a second, in-process test server would cost the same again.

With pytest-xdist the controller starts it, as soon as a worker reports that a collected
test needs it, and every worker uses that one server (it finds the address in a file of a
folder the controller names in ``SHARED_DIR_ENV``); the controller stops it at the end.
Without workers the test process starts it right after collection. Either way its start-up
overlaps with the tests that run before the first one using it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.harness import free_port

STARTUP_TIMEOUT = 90  # seconds; a fresh server on 2 cores needs 15 to 25 s
SHARED_DIR_ENV = "KOHORTE_TEST_SESSION_DIR"  # the xdist controller's folder for its workers
NEEDED, ANNOUNCED = "needed", "server.json"  # files in that folder


@dataclass(frozen=True)
class Server:
    """A running Prefect server and the environment that points a client at it."""

    api_url: str
    env: dict[str, str]
    log: Path


def tail_of(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return "(no server log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200 and response.read().strip() == b"true"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT the server's process group, then SIGTERM, then SIGKILL; wait until it is gone."""
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader so a zombie does not count as alive
            if not _group_alive(pgid):
                return
            time.sleep(0.2)
    proc.poll()


def _base_env(prefect_home: Path, kohorte_home: Path, api_url: str) -> dict[str, str]:
    # Drop inherited PREFECT_* (e.g. PREFECT_HOME from the Makefile or a flow import) so only
    # this module's settings apply.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # Importing flows/nightly.py must not touch ./data.
            "KOHORTE_HOME": str(kohorte_home),
            # Wide enough that Rich does not truncate table cells.
            "COLUMNS": "200",
        }
    )
    return env


@dataclass
class Launch:
    """A server process that has been started but is perhaps not healthy yet."""

    proc: subprocess.Popen
    server: Server


_EARLY: list[Launch] = []


def launch(tmp: Path) -> Launch:
    """Start `prefect server start` on a free local port in its own process group."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = _base_env(tmp / "prefect_home", tmp / "kohorte_home", api_url)
    log = tmp / "server.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp,
            env={**env, "PYTHONUNBUFFERED": "1"},  # so the log tail is current on failure
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Launch(proc, Server(api_url=api_url, env=env, log=log))


def _worker() -> bool:
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def _needs_server(items: list[pytest.Item]) -> bool:
    return any("prefect_server" in getattr(item, "fixturenames", ()) for item in items)


def configure(config: pytest.Config) -> None:
    """In the xdist controller: name the folder through which the workers ask for the
    server and learn its address (workers inherit the environment when they start; the
    scheduler in conftest.py reads the workers' groups from there too)."""
    if _worker() or SHARED_DIR_ENV in os.environ:
        return
    if getattr(config.option, "numprocesses", None) and config.option.dist != "no":
        os.environ[SHARED_DIR_ENV] = tempfile.mkdtemp(prefix="kohorte-test-session-")


def launch_early(items: list[pytest.Item]) -> None:
    """After collection: if any collected test needs the server, start it now (without
    workers), or (in a worker) tell the controller, which starts the one shared server."""
    if not _needs_server(items):
        return
    shared = os.environ.get(SHARED_DIR_ENV)
    if _worker():
        if shared:
            (Path(shared) / NEEDED).touch()
    elif not shared:
        _EARLY.append(launch(Path(tempfile.mkdtemp(prefix="kohorte-prefect-server-"))))


def controller_collected() -> None:
    """In the controller, after a worker's collection: start the shared server if a
    worker needs it and it is not running yet, and announce its address to the workers."""
    shared = os.environ.get(SHARED_DIR_ENV)
    if _worker() or not shared or _EARLY or not (Path(shared) / NEEDED).exists():
        return
    started = launch(Path(shared))
    _EARLY.append(started)
    announced = Path(shared) / ANNOUNCED
    partial = announced.with_suffix(".tmp")
    partial.write_text(
        json.dumps(
            {
                "api_url": started.server.api_url,
                "env": started.server.env,
                "log": str(started.server.log),
                "pid": started.proc.pid,
            }
        )
    )
    partial.rename(announced)  # a worker never reads half of it


def stop_early() -> None:
    """Stop the servers this process started: the shared one at the end of the run, or one
    started early that no test ended up using (e.g. after -x); the controller then removes
    the folder it shared with its workers."""
    while _EARLY:
        _stop(_EARLY.pop().proc)
    shared = os.environ.get(SHARED_DIR_ENV)
    if shared and not _worker():
        shutil.rmtree(shared, ignore_errors=True)


def _wait_healthy(server: Server, exited) -> None:
    """Until the server answers its health check; fail with its log if it died or is slow."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _healthy(f"{server.api_url}/health"):
        code = exited()
        if code is not None:
            pytest.fail(
                f"Prefect server exited with {code} before it was healthy."
                f"\n--- server log tail ---\n{tail_of(server.log)}"
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"Prefect server not healthy at {server.api_url}/health after "
                f"{STARTUP_TIMEOUT} s.\n--- server log tail ---\n{tail_of(server.log)}"
            )
        time.sleep(0.5)


def _announced(shared: Path) -> Server:
    """The controller's shared server, once it has announced it."""
    announced = shared / ANNOUNCED
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not announced.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the xdist controller did not start the Prefect server ({shared})")
        time.sleep(0.2)
    data = json.loads(announced.read_text())
    server = Server(api_url=data["api_url"], env=data["env"], log=Path(data["log"]))

    def exited() -> str | None:
        return None if _group_alive(data["pid"]) else "a code only the controller saw"

    _wait_healthy(server, exited)
    return server


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Prefect server shared by the whole session (the deployment tests and the
    flow tests; with xdist by all workers), stopped (whole group) at the end."""
    shared = os.environ.get(SHARED_DIR_ENV)
    if _worker() and shared:
        yield _announced(Path(shared))  # the controller stops it after the last worker
        return
    started = _EARLY.pop() if _EARLY else launch(tmp_path_factory.mktemp("prefect_server"))
    proc, server = started.proc, started.server
    try:
        _wait_healthy(server, proc.poll)
        yield server
    finally:
        _stop(proc)
