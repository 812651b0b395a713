"""`prefect deploy --all` against a real Prefect server registers the nightly deployment.

A throwaway server (own PREFECT_HOME, own port) runs for this module only. Every Prefect
command and the client check run in subprocesses with an explicit environment, so nothing
here touches this process's settings or the other tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 90  # seconds; a fresh server on 2 cores needs ~25 s
CLI_TIMEOUT = 180
MARKER = "KOHORTE_DEPLOYMENT_JSON="

# Runs in a subprocess so Prefect reads PREFECT_API_URL fresh (it caches settings at import).
CLIENT_SCRIPT = f"""
import asyncio, json
from prefect.client.orchestration import get_client

async def main():
    async with get_client() as client:
        deployment = await client.read_deployment_by_name("nightly/nightly")
        flow = await client.read_flow(deployment.flow_id)
        pool = await client.read_work_pool(deployment.work_pool_name)
    data = deployment.model_dump(mode="json")
    data["_flow_name"] = flow.name
    data["_work_pool_type"] = pool.type
    print({MARKER!r} + json.dumps(data))

asyncio.run(main())
"""


@dataclass(frozen=True)
class Server:
    """A running Prefect server and the environment that points a client at it."""

    api_url: str
    env: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
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


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`prefect server start` on a free local port, stopped (whole group) at teardown."""
    tmp = tmp_path_factory.mktemp("prefect_server")
    port = _free_port()
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
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _healthy(f"{api_url}/health"):
                if proc.poll() is not None:
                    pytest.fail(
                        f"Prefect server exited with {proc.returncode} before it was healthy."
                        f"\n--- server log tail ---\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"Prefect server not healthy at {api_url}/health after "
                        f"{STARTUP_TIMEOUT} s.\n--- server log tail ---\n{_tail(log)}"
                    )
                time.sleep(1)
            yield Server(api_url=api_url, env=env, log=log)
        finally:
            _stop(proc)


def _run(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a Python command in the project folder, as `make deploy` would."""
    env = dict(server.env)
    env["PWD"] = str(ROOT)  # prefect.yaml's pull step is templated from {{ $PWD }}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def _check_ok(result: subprocess.CompletedProcess[str], server: Server) -> None:
    assert result.returncode == 0, (
        f"{' '.join(result.args[1:])} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n"
        f"--- server log tail ---\n{_tail(server.log)}"
    )


@pytest.fixture(scope="module")
def deployed(prefect_server: Server) -> Server:
    """The work pool and `prefect --no-prompt deploy --all`, as `make deploy` runs them."""
    created = _run(
        prefect_server,
        *("-m", "prefect", "work-pool", "create", "kohorte", "--type", "process", "--overwrite"),
    )
    _check_ok(created, prefect_server)
    result = _run(prefect_server, "-m", "prefect", "--no-prompt", "deploy", "--all")
    _check_ok(result, prefect_server)
    return prefect_server


def test_deploy_all_registers_nightly(deployed: Server) -> None:
    prefect_server = deployed
    inspected = _run(prefect_server, "-c", CLIENT_SCRIPT)
    _check_ok(inspected, prefect_server)
    lines = [line for line in inspected.stdout.splitlines() if line.startswith(MARKER)]
    assert len(lines) == 1, f"no deployment JSON in client output:\n{inspected.stdout}"
    deployment = json.loads(lines[0].removeprefix(MARKER))

    assert deployment["name"] == "nightly"
    assert deployment["_flow_name"] == "nightly"
    assert deployment["entrypoint"] == "flows/nightly.py:nightly"
    assert deployment["work_pool_name"] == "kohorte"
    assert deployment["_work_pool_type"] == "process"

    schedules = deployment["schedules"]
    assert len(schedules) == 1, schedules
    schedule = schedules[0]
    assert schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "Europe/Berlin"
    assert schedule["active"] is True

    # The worker runs from this checkout: {{ $PWD }} must have been resolved, not kept literally.
    assert deployment["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
    ]
    # concurrency_limit: 1 is stored as a deployment-scoped global concurrency limit.
    assert (deployment.get("global_concurrency_limit") or {}).get("limit") == 1, deployment

    listed = _run(prefect_server, "-m", "prefect", "deployment", "ls")
    _check_ok(listed, prefect_server)
    assert "nightly/nightly" in listed.stdout, listed.stdout
    # retention runs after the nightly load, from the same file
    assert "retention/retention" in listed.stdout, listed.stdout


def test_a_run_triggered_by_hand_is_executed_by_a_worker(deployed: Server) -> None:
    """The deployment really runs: a worker from this checkout loads the inbox and publishes."""
    home = Path(deployed.env["KOHORTE_HOME"])
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "tests" / "fixtures" / "kpi").glob("*.csv")):
        (inbox / source.name).write_bytes(source.read_bytes())
    triggered = _run(
        deployed,
        *("-m", "prefect", "deployment", "run", "nightly/nightly"),
        *("--param", 'load_date="2026-06-30"'),
    )
    _check_ok(triggered, deployed)
    worker = _run(deployed, "-m", "prefect", "worker", "start", "--pool", "kohorte", "--run-once")
    _check_ok(worker, deployed)
    runs = _run(
        deployed,
        "-c",
        "import asyncio\n"
        "from prefect.client.orchestration import get_client\n"
        "async def main():\n"
        "    async with get_client() as client:\n"
        "        for run in await client.read_flow_runs():\n"
        "            print('RUN', run.state_type.value)\n"
        "asyncio.run(main())\n",
    )
    _check_ok(runs, deployed)
    assert "RUN COMPLETED" in runs.stdout, runs.stdout + worker.stdout + worker.stderr
    assert (home / "warehouse" / "current.duckdb").is_symlink()
    assert list(inbox.iterdir()) == []  # the deliveries were taken in
