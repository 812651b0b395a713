"""The wheel built from pyproject.toml works on its own: installed into a fresh virtual
environment outside the checkout, it generates, loads and reports with the SQL and the
schedule it carries (importlib.resources), not with files of the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

UV = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")

pytestmark = pytest.mark.slow  # a whole tool in subprocesses: make test, not make check


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed; the dependencies come from the test's own
    environment through a path file (offline: nothing is downloaded), the checkout never."""
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [UV, "build", "--wheel", "--no-build-isolation", "--offline", "--python",
         sys.executable, "-o", str(base / "dist"), str(ROOT)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    (wheel,) = (base / "dist").glob("kohorte-*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [UV, "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # the dependencies of this environment, after the wheel's own packages
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def _run(env_dir: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOHORTE_", "PREFECT_"))}
    env.update(KOHORTE_HOME=str(home), KOHORTE_SETTLE_SECONDS="0", PYTHONPATH="")
    return subprocess.run(
        [str(env_dir / "bin" / "kohorte"), *args],
        cwd=home.parent, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_wheel_carries_its_sql_and_schedule(installed):
    (wheel,) = (installed.parent / "dist").glob("kohorte-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = {str(p.relative_to(ROOT)) for p in (ROOT / "kohorte" / "sql").rglob("*.sql")}
    assert sql and sql <= names
    assert "kohorte/ops/prefect.yaml" in names
    assert {"flows/nightly.py", "dashboard/app.py"} <= names


def test_generate_load_and_kpis_from_the_installed_wheel(installed, tmp_path):
    home = tmp_path / "home"
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import kohorte; print(kohorte.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": ""},
    ).stdout  # fmt: skip
    assert str(installed) in where and str(ROOT) not in where
    generated = _run(
        installed,
        home,
        "generate",
        "--if-empty",
        "--start",
        "2025-04-07",
        "--end",
        "2025-12-19",
        "--entries-per-year",
        "60",
        "--weekly-weeks",
        "2",
    )
    assert generated.returncode == 0, generated.stderr
    loaded = _run(installed, home, "load", "--plain")
    assert loaded.returncode == 0, loaded.stderr
    assert "Status: veröffentlicht" in loaded.stdout
    report = _run(installed, home, "kpis", "--json")
    assert report.returncode == 0, report.stderr
    payload = json.loads(report.stdout)
    ids = {k["id"] for k in payload["kpis"]}
    assert "integrationsquote" in ids
    assert any(k["value"] not in (None, "–") for k in payload["kpis"])
