"""A real Prefect server for the session: `prefect server start` in its own process group.

Started once (about 25 s on two cores) and shared: the deployment tests talk to it through
subprocesses with an explicit environment, the flow tests through Prefect's
``temporary_settings``; a second, in-process test server would cost the same again.
"""

from __future__ import annotations

import os
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

STARTUP_TIMEOUT = 90  # seconds; a fresh server on 2 cores needs ~25 s


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


def launch_early(items: list[pytest.Item]) -> None:
    """If any collected test needs the server, start it now: its ~25 s start-up overlaps
    with the tests that run before the first one using it."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # with several workers only one runs the server's tests; it starts it then
    if any("prefect_server" in getattr(item, "fixturenames", ()) for item in items):
        _EARLY.append(launch(Path(tempfile.mkdtemp(prefix="kohorte-prefect-server-"))))


def stop_early() -> None:
    """Stop a server started early that no test ended up using (e.g. after -x)."""
    while _EARLY:
        _stop(_EARLY.pop().proc)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Prefect server shared by the whole session (the deployment tests and the
    flow tests), stopped (whole group) at teardown."""
    started = _EARLY.pop() if _EARLY else launch(tmp_path_factory.mktemp("prefect_server"))
    proc, server = started.proc, started.server
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(f"{server.api_url}/health"):
            if proc.poll() is not None:
                pytest.fail(
                    f"Prefect server exited with {proc.returncode} before it was healthy."
                    f"\n--- server log tail ---\n{tail_of(server.log)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Prefect server not healthy at {server.api_url}/health after "
                    f"{STARTUP_TIMEOUT} s.\n--- server log tail ---\n{tail_of(server.log)}"
                )
            time.sleep(1)
        yield server
    finally:
        _stop(proc)
