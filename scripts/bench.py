"""Benchmark: the nightly load, its baselines, the dashboard's queries and first paint, at
four scales, on the same generated files; figures into docs/performance.md.

    make bench                                     # jobcenter, region, national; 3 repeats
    BENCH_SCALE=jobcenter,region BENCH_REPEAT=2 make bench
    uv run python scripts/bench.py --scales mikro --repeat 1 --report /tmp/p.md --no-browser

Per scale the deliveries of five programme years are generated once (seeded, so always the
same files) into ``bench-data/<scale>/deliveries`` and reused. The last week's deliveries
are held back as "the next night": the full load reads five years less that week into an
empty KOHORTE_HOME, the incremental night then adds that week on top of it. Every load,
baseline and checksum pass runs in its own process, timed from outside, with that
process's peak RSS from ``wait4``. Queries run in this process against the published
warehouse; the browser figures come from Debian's chromium driven by Playwright.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: import the project's own packages

from kohorte.build import warehouse
from kohorte.config import PREFECT_ENV_DEFAULTS, load_settings
from kohorte.define.attention import Thresholds
from kohorte.define.contract import kind_for_file
from kohorte.define.dimensions import Filters
from kohorte.ops import accounts
from kohorte.read import attention, queries
from kohorte.store import runlog
from scripts.loadtest import (
    dashboard,
    machine,
    percentile,
)

DATA = ROOT / "bench-data"
KOHORTE = Path(sys.executable).parent / "kohorte"
BASELINES = ROOT / "scripts" / "bench_baselines.py"
START = dt.date(2021, 1, 4)  # a Monday: five programme years up to END
END = dt.date(2025, 12, 28)  # a Sunday: the last weekly delivery period ends here
NIGHT = f"_{END:%Y%m%d}."  # the files of the held-back night carry this date
HISTORY_LOAD = END - dt.timedelta(days=6)  # the morning after the last history week
NIGHT_LOAD = END + dt.timedelta(days=1)
SCALES = {
    # name: (sites, entries per site and year); 300 entries a year is one Jobcenter's
    # programme, about 25,000 attendance rows a site and year
    "mikro": (1, 40),  # the harness's own smoke test, not part of `make bench`
    "jobcenter": (1, 300),
    "region": (50, 300),
    "national": (400, 300),
    # all coaching measures of every Jobcenter, not one programme each: the national sites
    # with 4.5 times the entries (1,350 a year), about 50 million attendance rows; by
    # entries per site, so a site's files, and the number of files, stay as at national
    "bund": (400, 1350),
}
DEFAULT_SCALES = "jobcenter,region,national,bund"
# The Prefect flow once per scale and task runner: at one Jobcenter its cost is Prefect's
# fixed overhead; at region scale it meets prefect-dask (KOHORTE_TASK_RUNNER=dask, a local
# cluster of two worker processes) against Prefect's default thread pool.
FLOW_RUNNERS = {"jobcenter": ("default",), "region": ("default", "dask")}
# A national full load and night take minutes each; fewer repeats there keep `make bench`
# within about an hour (BENCH_REPEAT_NATIONAL).
NATIONAL_REPEAT = int(os.environ.get("BENCH_REPEAT_NATIONAL", "2"))
BUND_REPEAT = int(os.environ.get("BENCH_REPEAT_BUND", "1"))  # a full load there: ~10 min
GROWTH_SCALES = ("jobcenter", "region")  # the night's cost against 1, 2 and 5 years
GROWTH_YEARS = (1, 2)
WARM_RUNS = 10  # warm runs of a query per repeat (cold: one per repeat)
PASSWORD = "bench-" + secrets.token_hex(8)
TARGETS = {
    "read_csv_share": 0.5,  # pipeline throughput / bare read_csv
    "pandas_factor": 5.0,  # pipeline throughput / pandas pipeline
    "incremental_s": 30.0,  # national scale
    "full_s": 600.0,  # national scale
    "query_p95_ms": 100.0,  # national scale, every query
    "paint_s": 2.0,  # cold
    "paint_warm_s": 1.0,
    "cpu_ms": 100.0,  # the dashboard process's CPU per interaction, median of the warm runs
    "dashboard_mib": 1024.0,
}
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")


# --- processes ---------------------------------------------------------------------------


# A tiny parent between this process and the measured one: a child's peak RSS as Linux
# reports it (wait4, RUSAGE_CHILDREN) starts from its parent's RSS at fork, and this
# process holds DuckDB, pandas and query results. Forked from a bare Python instead, the
# figure is the measured process's own (plus at most the ~10 MiB of that bare Python).
PEAK_WRAPPER = (
    "import os, resource, sys\n"
    "code = os.spawnv(os.P_WAIT, sys.argv[2], sys.argv[2:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak))\n"
    "sys.exit(code)\n"
)


def measured(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """Run ``command`` to its end: (wall seconds, peak RSS of that process in MiB, stdout)."""
    peak_file = log.with_name(".peak-kib")
    wrapped = [sys.executable, "-S", "-c", PEAK_WRAPPER, str(peak_file), *command]
    started = time.perf_counter()
    with log.open("ab") as err:
        done = subprocess.run(wrapped, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)
    seconds = time.perf_counter() - started
    out = done.stdout.decode()
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} endete mit {done.returncode}: {out}")
    return seconds, int(peak_file.read_text()) / 1024, out


def home_env(home: Path) -> dict[str, str]:
    """Environment of a load in ``home``: fixed pseudonym key, Prefect offline and local."""
    return {
        **os.environ,
        **PREFECT_ENV_DEFAULTS,
        "KOHORTE_HOME": str(home),
        "KOHORTE_PSEUDONYM_KEY": "bench-" + "0" * 58,
        "PREFECT_HOME": str(home / "prefect"),
    }


# --- data --------------------------------------------------------------------------------


def _encoding(path: Path) -> str:
    head = path.read_bytes()
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)  # written without dimensions: count
        return sum(1 for _ in book.active.iter_rows(values_only=True)) - 1
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1


def deliveries(scale: str, log: Path, years: int = 5) -> dict:
    """The scale's files over ``years`` up to END (generated once, then reused) and their
    manifest."""
    folder = DATA / (scale if years == 5 else f"{scale}-{years}y")
    start = START if years == 5 else END - dt.timedelta(weeks=52 * years) + dt.timedelta(days=1)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    sites, entries = SCALES[scale]
    out = folder / "deliveries"
    shutil.rmtree(out, ignore_errors=True)
    print(f"[{scale}] erzeuge {sites} Standort(e) × {years} Jahre …", flush=True)
    generate = [
        str(KOHORTE), "generate", "--out", str(out), "--sites", str(sites),
        "--entries-per-year", str(entries), "--start", start.isoformat(),
        "--end", END.isoformat(), "--weekly-weeks", "12", "--seed", "42",
    ]  # fmt: skip
    seconds, rss, _ = measured(generate, home_env(folder / "generate-home"), log)
    files = []
    for path in sorted(out.iterdir()):
        kind = kind_for_file(path.name)
        files.append(
            {
                "path": str(path),
                "kind": kind.name if kind else None,
                "format": path.suffix.lstrip("."),
                "encoding": _encoding(path) if path.suffix == ".csv" else "xlsx",
                "rows": _rows(path),
                "bytes": path.stat().st_size,
                "night": NIGHT in path.name,
            }
        )
    manifest = {"scale": scale, "generate_s": seconds, "generate_mib": rss, "files": files}
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def totals(files: list[dict]) -> tuple[int, float]:
    """Rows and MB (10^6 bytes) of some files."""
    return sum(f["rows"] for f in files), sum(f["bytes"] for f in files) / 1e6


# --- the nightly load --------------------------------------------------------------------


def load(
    home: Path,
    files: list[dict],
    day: dt.date,
    log: Path,
    plain: bool = True,
    env: dict[str, str] | None = None,
) -> dict:
    """Drop ``files`` into the inbox (hard links: the originals stay) and run one load."""
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for entry in files:
        source = Path(entry["path"])
        os.link(source, inbox / source.name)
    command = [str(KOHORTE), "load", "--load-date", day.isoformat()]
    environment = {**home_env(home), **(env or {})}
    seconds, rss, out = measured([*command, "--plain"] if plain else command, environment, log)
    run = max(runlog.read_runs(_settings(home)), key=lambda r: r["run_id"])
    rows, mb = totals(files)
    if run.get("status") != "published":
        print(f"  Achtung: Lauf-Status {run.get('status')}\n{out}", flush=True)
    return {
        "seconds": seconds,
        "mib": rss,
        "rows": rows,
        "mb": mb,
        "ingest_s": run.get("seconds_ingest"),
        "build_s": run.get("seconds_build"),
        "status": run.get("status"),
        "rows_accepted": run.get("rows_accepted"),
        "rows_rejected": run.get("rows_rejected"),
    }


def _settings(home: Path):
    os.environ["KOHORTE_HOME"] = str(home)
    os.environ["KOHORTE_PSEUDONYM_KEY"] = home_env(home)["KOHORTE_PSEUDONYM_KEY"]
    return load_settings()


def verify_checksums(home: Path, log: Path) -> tuple[float, float]:
    """What the raw store's checksum pass alone costs on this history (own process)."""
    code = (
        "import time,sys; from pathlib import Path; from kohorte.store import rawstore; "
        "t=time.perf_counter(); rawstore.verify(Path(sys.argv[1])); "
        "print(time.perf_counter()-t)"
    )
    _, rss, out = measured([sys.executable, "-c", code, str(home / "raw")], home_env(home), log)
    return float(out.strip()), rss


def baseline(which: str, manifest_path: Path, log: Path) -> dict:
    """A baseline in its own process: seconds (its own clock, without Python's start), rows."""
    command = [sys.executable, str(BASELINES), which, str(manifest_path)]
    _, rss, out = measured(command, dict(os.environ), log)
    figures = json.loads(out.strip().splitlines()[-1])
    return {**figures, "mib": rss}


def pipeline_figures(scale: str, manifest: dict, repeat: int, log: Path, flow: bool) -> dict:
    """Full load, incremental night, checksum pass and both baselines, ``repeat`` times."""
    history = [f for f in manifest["files"] if not f["night"]]
    night = [f for f in manifest["files"] if f["night"]]
    baseline_manifest = DATA / scale / "baseline-manifest.json"
    baseline_manifest.write_text(json.dumps({"files": history}), encoding="utf-8")
    out: dict[str, list] = {"full": [], "night": [], "verify": [], "duckdb": [], "pandas": []}
    home = DATA / scale / "home"
    for index in range(repeat):
        shutil.rmtree(home, ignore_errors=True)
        print(f"[{scale}] Durchgang {index + 1}/{repeat}: voller Lauf …", flush=True)
        out["full"].append(load(home, history, HISTORY_LOAD, log))
        print(f"[{scale}]   nächste Nacht …", flush=True)
        out["night"].append(load(home, night, NIGHT_LOAD, log))
        out["verify"].append(verify_checksums(home, log))
        print(f"[{scale}]   read_csv und pandas …", flush=True)
        out["duckdb"].append(baseline("duckdb", baseline_manifest, log))
        out["pandas"].append(baseline("pandas", baseline_manifest, log))
    for runner in FLOW_RUNNERS.get(scale, ()) if flow else ():
        flow_home = DATA / scale / "home-flow"
        shutil.rmtree(flow_home, ignore_errors=True)
        print(f"[{scale}] voller Lauf als Prefect-Flow ({runner}) …", flush=True)
        env = {"KOHORTE_TASK_RUNNER": runner}
        out[f"flow-{runner}"] = [load(flow_home, history, HISTORY_LOAD, log, False, env)]
        shutil.rmtree(flow_home, ignore_errors=True)
    return out


# --- the dashboard's queries --------------------------------------------------------------


def query_cases(con) -> list[tuple[str, str, Filters, dict]]:
    """Every named query with the parameters the dashboard passes (dashboard/data.py),
    plus the cohort drill-down (the participation list of one entry month)."""
    options = queries.run(con, "filter__optionen").iloc[0]
    cohorts = list(options["kohorten"])
    info = queries.run(con, "datenstand__build").iloc[0]
    as_of = info["as_of"]
    pid = queries.run(con, "kohorten__teilnehmende")["pid"].iloc[0]
    values = {
        "start": dt.date(as_of.year - 2, as_of.month, 1),  # as ueberblick.py asks
        "raster": "monat",
        "kohorten": [*cohorts[-6:], "gesamt"],
        "limit": 200,
        "pid": pid,
        "von": dt.date(as_of.year, as_of.month, 1),  # a report's month so far
        "bis": as_of,
        **attention.params(Thresholds(), 8),  # the attention list's default rules
    }
    cases = []
    for name in queries.names():
        wanted = set(re.findall(r"\$(\w+)", queries.query_text(name))) & set(values)
        cases.append((name, name, Filters(), {k: values[k] for k in wanted}))
    drill = Filters(kohorte=cohorts[-13])  # a cohort a year back: a full year to follow
    cases.append(("kohorten__teilnehmende (eine Kohorte)", "kohorten__teilnehmende", drill, {}))
    # Without filters the Überblick reads what the build stored; a team lead who picks her
    # site makes the macros compute. The largest site, for every query that filters.
    site = con.execute(
        "select standort from marts.teilnahmen group by 1 order by count(*) desc, 1 limit 1"
    ).fetchone()[0]
    for name in queries.names():
        if "{filter_args}" in queries.query_text(name):
            wanted = set(re.findall(r"\$(\w+)", queries.query_text(name))) & set(values)
            params = {k: values[k] for k in wanted}
            cases.append((f"{name} (ein Standort)", name, Filters(standort=site), params))
    return cases


def query_figures(home: Path, repeat: int) -> dict[str, dict]:
    """p50/p95 in ms per query: cold (a new connection for each run) and warm."""
    path = warehouse.current_path(_settings(home))
    con = warehouse.connect_readonly(path)
    cases = query_cases(con)
    con.close()
    cold: dict[str, list[float]] = {label: [] for label, *_ in cases}
    warm: dict[str, list[float]] = {label: [] for label, *_ in cases}
    for _ in range(repeat):
        for label, name, filters, params in cases:
            con = warehouse.connect_readonly(path)  # the only connection: a cold start
            started = time.perf_counter()
            queries.run(con, name, filters, **params)
            cold[label].append((time.perf_counter() - started) * 1000)
            for _ in range(WARM_RUNS):
                started = time.perf_counter()
                queries.run(con, name, filters, **params)
                warm[label].append((time.perf_counter() - started) * 1000)
            con.close()
    return {
        label: {
            "cold_p50": statistics.median(cold[label]),
            "cold_p95": percentile(cold[label], 0.95),
            "warm_p50": statistics.median(warm[label]),
            "warm_p95": percentile(warm[label], 0.95),
        }
        for label in cold
    }


# --- the browser --------------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# What the dashboard process spends on one interaction, in CPU seconds: unlike a latency,
# it does not grow when the machine is busy with something else. Measured from a settled
# page to a settled page, with a pause before and after, so the browser's own work and the
# websocket's quiet traffic stay out of the figure.
INTERACTIONS = ("filter", "kohorten", "drill")
QUIET_S = 0.5


async def _browser_runs(base_url: str, name: str, repeat: int, pid: int) -> dict[str, list]:
    from playwright.async_api import async_playwright

    from scripts.harness import CHROMIUM, CHROMIUM_ARGS
    from scripts.loadtest import SETTLED, VIEWPORT, WAIT_MS, cohort_click, cohorts, gender_filter

    actions = {"filter": gender_filter, "kohorten": cohorts, "drill": cohort_click}
    out: dict[str, list] = {"paint": [], "settled": []}
    out.update({label: [] for label in INTERACTIONS})
    out.update({f"cpu_{label}": [] for label in INTERACTIONS})
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            for _ in range(repeat):
                context = await browser.new_context(viewport=VIEWPORT, locale="de-DE")
                page = await context.new_page()
                await page.goto(f"{base_url}/")
                await page.get_by_label("Benutzername").fill(name)
                await page.get_by_label("Passwort").fill(PASSWORD)
                started = time.perf_counter()
                await page.get_by_role("button", name="Anmelden").click()
                metric = page.get_by_test_id("stMetricValue").first
                await metric.wait_for(state="visible", timeout=WAIT_MS)
                out["paint"].append(time.perf_counter() - started)
                await page.locator(SETTLED).wait_for(state="attached", timeout=WAIT_MS)
                out["settled"].append(time.perf_counter() - started)
                for label in INTERACTIONS:
                    await asyncio.sleep(QUIET_S)
                    cpu, started = _cpu_s(pid), time.perf_counter()
                    await actions[label](page)
                    await page.locator(SETTLED).wait_for(state="attached", timeout=WAIT_MS)
                    out[label].append(time.perf_counter() - started)
                    await asyncio.sleep(QUIET_S)
                    out[f"cpu_{label}"].append(_cpu_s(pid) - cpu)
                await context.close()
        finally:
            await browser.close()
    return out


def browser_figures(home: Path, repeat: int, log: Path) -> dict:
    """First KPI paint after sign-in, the Kohorten page and a cohort drill-down, in chromium;
    the first run meets a freshly started dashboard (cold caches), the others warm ones;
    and the dashboard process's peak RSS."""
    from scripts.loadtest import _status_kib

    settings = _settings(home)
    name = "bench"
    if name not in {u.name for u in accounts.list_users(settings)}:
        accounts.add_user(settings, name, "teamleitung", PASSWORD)
    else:
        accounts.set_password(settings, name, PASSWORD)
    env = home_env(home)
    with dashboard(env, log.with_name(log.stem + "-dashboard.log")) as (base_url, pids):
        runs = asyncio.run(_browser_runs(base_url, name, repeat + 1, pids[0]))
        runs["dashboard_mib"] = [_status_kib(pids[0], "VmHWM") / 1024]
    return runs


# --- the report ---------------------------------------------------------------------------


def _n(value: float, digits: int = 1) -> str:
    """German number formatting for the report (decimal comma, thin thousands)."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",")


def _spread(values: list[float], digits: int = 1, unit: str = " s") -> str:
    """Median, and min-max when there was more than one run."""
    text = _n(statistics.median(values), digits) + unit
    if len(values) > 1:
        text += f" ({_n(min(values), digits)}-{_n(max(values), digits)})"
    return text


def scale_figures(scale: str, repeat: int, log: Path, browser: bool) -> dict:
    """Everything measured at one scale."""
    manifest = deliveries(scale, log)
    figures = {"scale": scale, "manifest": manifest}
    figures["pipeline"] = pipeline_figures(scale, manifest, repeat, log, flow=True)
    if scale in GROWTH_SCALES:
        figures["growth"] = growth_figures(scale, log)
    home = DATA / scale / "home"
    print(f"[{scale}] Abfragen …", flush=True)
    figures["queries"] = query_figures(home, repeat)
    if browser:
        print(f"[{scale}] Chromium …", flush=True)
        figures["browser"] = browser_figures(home, repeat, log)
    return figures


def growth_figures(scale: str, log: Path) -> dict[int, dict]:
    """How a night's cost grows with history: the same sites over fewer years, one full
    load and one next night each (five years come from the main runs)."""
    out = {}
    for years in GROWTH_YEARS:
        manifest = deliveries(scale, log, years)
        home = DATA / f"{scale}-{years}y" / "home"
        shutil.rmtree(home, ignore_errors=True)
        print(f"[{scale}] {years} Jahr(e) Vorgeschichte …", flush=True)
        full = load(home, [f for f in manifest["files"] if not f["night"]], HISTORY_LOAD, log)
        night = load(home, [f for f in manifest["files"] if f["night"]], NIGHT_LOAD, log)
        verify, _ = verify_checksums(home, log)
        shutil.rmtree(home, ignore_errors=True)
        out[years] = {"full": full, "night": night, "verify": verify}
    return out


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2]


def _throughput(runs: list[dict]) -> tuple[list[float], list[float]]:
    rows = [r["rows"] / r["seconds"] for r in runs]
    mb = [r["mb"] / r["seconds"] for r in runs if "mb" in r]
    return rows, mb


def markdown(results: list[dict], repeat: int, command: str, load_before: float) -> str:
    """The report block: machine, then per scale every figure, then the targets."""
    lines = [
        f"Measured {dt.date.today().isoformat()} with `{command}` ({repeat} repeats, national "
        f"{min(repeat, NATIONAL_REPEAT)}; a figure "
        f"is the median, min-max in brackets) on {machine()}. Load average before the run: "
        f"{load_before:.2f} (above ~0.5 other work shared the cores).",
        "",
        "### Data",
        "",
        "| scale | sites | files | rows | MB | attendance rows | generated in |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        files = r["manifest"]["files"]
        rows, mb = totals(files)
        attendance = sum(f["rows"] for f in files if f["kind"] == "anwesenheit")
        lines.append(
            f"| {r['scale']} | {SCALES[r['scale']][0]} | {len(files)} | {_n(rows, 0)} | "
            f"{_n(mb)} | {_n(attendance, 0)} | {_n(r['manifest']['generate_s'])} s |"
        )
    lines += [
        "",
        "### Nightly load and baselines",
        "",
        "Full load: five years less the last week into an empty home (`kohorte load --plain`, "
        "end to end: process start, recovery and checksum pass, ingest, build, checks, "
        "publish). Next night: the last week's deliveries on top. Baselines read only the CSV "
        "files of the full load (XLSX files are the pipeline's alone); their time excludes "
        "Python's start.",
        "",
        "| scale | step | seconds | rows/s | MB/s | ingest | build | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        p = r["pipeline"]
        for step, label in (
            ("full", "full load"),
            ("night", "next night"),
            ("flow", "full load, Prefect flow"),  # reports written before the runners
            ("flow-default", "full load, Prefect flow (default task runner)"),
            ("flow-dask", "full load, Prefect flow (prefect-dask, 2 workers)"),
        ):
            runs = p.get(step)
            if not runs:
                continue
            rows, mb = _throughput(runs)
            lines.append(
                f"| {r['scale']} | {label} | {_spread([x['seconds'] for x in runs])} | "
                f"{_n(statistics.median(rows), 0)} | {_n(statistics.median(mb), 2)} | "
                f"{_spread([x['ingest_s'] or 0 for x in runs])} | "
                f"{_spread([x['build_s'] or 0 for x in runs])} | "
                f"{_n(max(x['mib'] for x in runs), 0)} MiB |"
            )
        verify = [v[0] for v in p["verify"]]
        lines.append(
            f"| {r['scale']} | checksum pass of the raw store alone | {_spread(verify, 2)} | "
            f"| | | | {_n(max(v[1] for v in p['verify']), 0)} MiB |"
        )
        csv_mb = sum(f["bytes"] for f in r["manifest"]["files"] if _baseline_file(f)) / 1e6
        for step, label in (("duckdb", "bare DuckDB read_csv"), ("pandas", "pandas pipeline")):
            runs = p[step]
            rows = [x["rows"] / x["seconds"] for x in runs]
            mb = [csv_mb / x["seconds"] for x in runs]
            lines.append(
                f"| {r['scale']} | {label} | {_spread([x['seconds'] for x in runs])} | "
                f"{_n(statistics.median(rows), 0)} | {_n(statistics.median(mb), 2)} | | | "
                f"{_n(max(x['mib'] for x in runs), 0)} MiB |"
            )
    growth = [r for r in results if "growth" in r]
    if growth:
        lines += [
            "",
            "### A night's cost against history",
            "",
            "The same sites over 1, 2 and 5 years up to the same night (one run each for 1 and "
            "2 years; 5 years: the median run above). Seconds.",
            "",
            "| scale | years | history rows | full load | next night | of it ingest | "
            "of it build | checksum pass alone |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in growth:
            p = r["pipeline"]
            series = dict(r["growth"])
            series[5] = {
                "full": _median_run(p["full"]),
                "night": _median_run(p["night"]),
                "verify": statistics.median(v[0] for v in p["verify"]),
            }
            for years, g in sorted(series.items(), key=lambda kv: int(kv[0])):
                night = g["night"]
                lines.append(
                    f"| {r['scale']} | {years} | {_n(g['full']['rows'], 0)} | "
                    f"{_n(g['full']['seconds'])} | {_n(night['seconds'])} | "
                    f"{_n(night['ingest_s'] or 0)} | {_n(night['build_s'] or 0)} | "
                    f"{_n(g['verify'], 2)} |"
                )
    lines += ["", "### Dashboard queries", ""]
    lines += [
        "In-process, `kohorte.read.queries.run` as the dashboard calls it (default filters, "
        "its parameters; *ein Standort*: filtered to the largest site, so the macros "
        "compute instead of reading the build's stored tables), result to pandas included. "
        "Cold: a new connection each run, one run per repeat; warm: "
        f"{WARM_RUNS} runs per repeat on an open connection. Milliseconds, p50 / p95.",
        "",
        "| query | " + " | ".join(f"{r['scale']} cold | {r['scale']} warm" for r in results) + " |",
        "| --- |" + " ---: | ---: |" * len(results),
    ]
    for label in results[0]["queries"]:
        cells = []
        for r in results:
            q = r["queries"][label]
            cells.append(f"{_n(q['cold_p50'])} / {_n(q['cold_p95'])}")
            cells.append(f"{_n(q['warm_p50'])} / {_n(q['warm_p95'])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if any("browser" in r for r in results):
        lines += [
            "",
            "### In the browser",
            "",
            "Chromium (headless, Playwright), one new context a run. Paint: from clicking "
            "*Anmelden* until the first KPI value is visible; settled: until Streamlit's "
            "script run has finished; Kohorten: from the navigation click until the triangle "
            "is drawn; drill-down: from a click into the triangle until the cohort's list is "
            "shown. Cold: the first run on a freshly started dashboard; warm: the others.",
            "",
            "| scale | paint cold | paint warm | settled cold | settled warm | Kohorten warm "
            "| drill-down cold | drill-down warm | dashboard peak RSS |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in results:
            b = r.get("browser")
            if not b:
                continue
            lines.append(
                f"| {r['scale']} | {_n(b['paint'][0], 2)} s | {_spread(b['paint'][1:], 2)} | "
                f"{_n(b['settled'][0], 2)} s | {_spread(b['settled'][1:], 2)} | "
                f"{_spread(b['kohorten'][1:], 2)} | {_n(b['drill'][0], 2)} s | "
                f"{_spread(b['drill'][1:], 2)} | {_n(b['dashboard_mib'][0], 0)} MiB |"
            )
        lines += [
            "",
            "The dashboard process's CPU time per interaction (user + system, from "
            "`/proc/<pid>/stat`), from a settled page to a settled page; warm runs, median "
            "and range. Filter: a gender chosen in the filter bar on the Überblick; page "
            "switch: to Kohorten; triangle click: a cohort chosen in the triangle.",
            "",
            "| scale | filter change | page switch | triangle click |",
            "| --- | ---: | ---: | ---: |",
        ]
        for r in results:
            b = r.get("browser")
            if b and "cpu_filter" in b:
                cells = [
                    _spread([x * 1000 for x in b[f"cpu_{i}"][1:]], 0, " ms") for i in INTERACTIONS
                ]
                lines.append(f"| {r['scale']} | " + " | ".join(cells) + " |")
    lines += ["", "### Targets (2 cores, 24 GiB)", ""] + [f"- {t}" for t in verdicts(results)]
    return "\n".join(lines)


def _baseline_file(entry: dict) -> bool:
    return not entry["night"] and entry["format"] == "csv"


def verdicts(results: list[dict]) -> list[str]:
    """Each target met or missed, by how much, at the largest scale measured."""
    r = max(results, key=lambda x: SCALES[x["scale"]][0])
    p = r["pipeline"]
    scale = r["scale"]
    out = []

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    pipe = statistics.median(x["rows"] / x["seconds"] for x in p["full"])
    ingest = statistics.median(x["rows"] / x["ingest_s"] for x in p["full"] if x["ingest_s"])
    bare = statistics.median(x["rows"] / x["seconds"] for x in p["duckdb"])
    pandas = statistics.median(x["rows"] / x["seconds"] for x in p["pandas"])
    share, factor = pipe / bare, pipe / pandas
    out.append(
        f"Pipeline ≥ 50 % of bare read_csv throughput ({scale}): {_n(share * 100, 0)} % "
        f"end to end (ingest alone: {_n(ingest / bare * 100, 0)} %) — "
        f"{mark(share >= TARGETS['read_csv_share'])}"
    )
    out.append(
        f"Pipeline ≥ 5× the pandas pipeline ({scale}): {_n(factor, 2)}× end to end (ingest "
        f"alone: {_n(ingest / pandas, 2)}×) — {mark(factor >= TARGETS['pandas_factor'])}"
    )
    night = statistics.median(x["seconds"] for x in p["night"])
    full = statistics.median(x["seconds"] for x in p["full"])
    note = "" if scale == "national" else f" (at {scale} scale; national not measured here)"
    # not measured at national scale: judged on a linear guess in sites, said as such
    factor = SCALES["national"][0] / SCALES[scale][0]
    guess = "" if scale == "national" else " (linear guess for national: {} s)"
    judged = "" if scale == "national" else " by the guess"
    out.append(
        f"Incremental night ≤ 30 s: {_n(night)} s{note}{guess.format(_n(night * factor, 0))} "
        f"— {mark(night * factor < TARGETS['incremental_s'])}{judged}"
    )
    out.append(
        f"Full rebuild < 600 s: {_n(full)} s{note}{guess.format(_n(full * factor, 0))} — "
        f"{mark(full * factor < TARGETS['full_s'])}{judged}"
    )
    worst = max(r["queries"].items(), key=lambda kv: max(kv[1]["cold_p95"], kv[1]["warm_p95"]))
    worst_ms = max(worst[1]["cold_p95"], worst[1]["warm_p95"])
    out.append(
        f"Every query p95 < 100 ms{note}: slowest {worst[0]} {_n(worst_ms)} ms — "
        f"{mark(worst_ms < TARGETS['query_p95_ms'])}"
    )
    b = r.get("browser")
    if b:
        paint = max(b["paint"])
        rss = b["dashboard_mib"][0]
        out.append(
            f"First KPI paint cold < 2 s ({scale}, worst run incl. cold): {_n(paint, 2)} s — "
            f"{mark(paint < TARGETS['paint_s'])}"
        )
        warm = statistics.median(b["paint"][1:]) if len(b["paint"]) > 1 else paint
        out.append(
            f"First KPI paint warm < 1 s ({scale}, median of the warm runs): {_n(warm, 2)} s — "
            f"{mark(warm < TARGETS['paint_warm_s'])}"
        )
        if "cpu_filter" in b:
            cpu = {
                i: statistics.median(b[f"cpu_{i}"][1:] or b[f"cpu_{i}"]) * 1000
                for i in INTERACTIONS
            }
            worst_cpu = max(cpu, key=cpu.get)
            out.append(
                f"Server CPU per interaction < 100 ms ({scale}): filter {_n(cpu['filter'], 0)} ms, "
                f"page switch {_n(cpu['kohorten'], 0)} ms, triangle click {_n(cpu['drill'], 0)} ms "
                f"— {mark(cpu[worst_cpu] < TARGETS['cpu_ms'])}"
            )
        out.append(
            f"Dashboard process < 1 GiB ({scale}): {_n(rss, 0)} MiB — "
            f"{mark(rss < TARGETS['dashboard_mib'])}"
        )
    return out


def write_block(doc: Path, text: str) -> None:
    """Replace the benchmark's block between its markers (the file is made if missing)."""
    start, end = MARKERS
    if not doc.exists():
        doc.write_text(f"# Performance\n\n{start}\n{end}\n", encoding="utf-8")
    content = doc.read_text(encoding="utf-8")
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    doc.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALE") or DEFAULT_SCALES)
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")))
    parser.add_argument("--report", type=Path, default=None, help="markdown file to update")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium figures")
    args = parser.parse_args(argv)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    unknown = [s for s in scales if s not in SCALES]
    if unknown:
        parser.error(f"unbekannte Skala: {', '.join(unknown)} (bekannt: {', '.join(SCALES)})")
    DATA.mkdir(exist_ok=True)
    log = DATA / "bench.log"
    load_before = os.getloadavg()[0]
    results = [
        scale_figures(
            s,
            {
                "national": min(args.repeat, NATIONAL_REPEAT),
                "bund": min(args.repeat, BUND_REPEAT),
            }.get(s, args.repeat),
            log,
            not args.no_browser,
        )
        for s in scales
    ]
    command = f"BENCH_SCALE={','.join(scales)} BENCH_REPEAT={args.repeat} make bench"
    text = markdown(results, args.repeat, command, load_before)
    print(text)
    raw = DATA / f"bench-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    raw.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    if args.report:
        write_block(args.report, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
