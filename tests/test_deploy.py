"""`prefect deploy --all` against a real Prefect server registers the nightly deployment.

The session's throwaway server (own PREFECT_HOME, own port; tests/prefect_server.py), which
the flow tests use too: only this deployment's runs are looked at. Every Prefect command
and the client check run in subprocesses with an explicit environment, so nothing here
touches this process's settings or the other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from prefect_server import Server, tail_of

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
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
        f"--- server log tail ---\n{tail_of(server.log)}"
    )


@pytest.fixture(scope="session")  # like the server: once, even if xdist interleaves files
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
    # and the monthly report on the first at 06:00, after the night
    assert "monatsbericht/monatsbericht" in listed.stdout, listed.stdout


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
        "from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId\n"
        "async def main():\n"
        "    async with get_client() as client:\n"
        "        deployment = await client.read_deployment_by_name('nightly/nightly')\n"
        "        only = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))\n"
        "        for run in await client.read_flow_runs(deployment_filter=only):\n"
        "            print('RUN', run.state_type.value)\n"
        "asyncio.run(main())\n",
    )
    _check_ok(runs, deployed)
    assert "RUN COMPLETED" in runs.stdout, runs.stdout + worker.stdout + worker.stderr
    assert (home / "warehouse" / "current.duckdb").is_symlink()
    assert list(inbox.iterdir()) == []  # the deliveries were taken in
