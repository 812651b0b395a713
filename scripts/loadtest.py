"""Load test: concurrent real-browser sessions use the dashboard while the nightly load
publishes a new warehouse version.

    make loadtest                      # 50 sessions, 120 s, figures into docs/reliability.md
    LOADTEST_SESSIONS=5 LOADTEST_SECONDS=30 uv run python scripts/loadtest.py

One Debian chromium (driven by Playwright) holds one context per session; every session
signs in with its own account and then tours the cockpit like a person: Überblick, a
filter, Datenstand, Kohorten, a click into the cohort triangle, Teilnehmende, one person's
timeline. An interaction's latency runs from the action until the expected element is
visible and Streamlit reports the script run finished. Meanwhile ``kohorte load`` publishes
a new version: once in the middle of the run, as a night does (``LOADTEST_PUBLISHES``, more
spread evenly; 0 loads back to back the whole time, a stress no morning sees). Any error
(an exception or error box shown, a failed wait, a closed websocket, an HTTP error, a
browser error, a traceback in the server log, a failed load) makes the exit code 1.

Everything runs in a temporary KOHORTE_HOME; every process started here is stopped by its
process group, also on Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: import the project's own packages

import pyarrow as pa
import websockets
from playwright.async_api import (
    Browser,
    Page,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeout
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from kohorte.config import load_settings
from kohorte.ops import accounts
from kohorte.ops.service import healthy, stop_group
from kohorte.present.charts import COHORT_PICK
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, free_port

APP = ROOT / "dashboard" / "app.py"
KOHORTE = Path(sys.executable).parent / "kohorte"
VIEWPORT = {"width": 1366, "height": 768}
WAIT_MS = 60_000  # one interaction may take this long under load before it counts as error
STARTUP_S = 60
THINK_S = (1.0, 3.0)  # a person's pause between two interactions
ROLES = ("teamleitung", "analyse")  # both see the participant pages the tour visits
PASSWORD = "last-test-" + secrets.token_hex(8)
ERROR_TEXTS = ("Die Daten konnten nicht gelesen werden", "The data could not be read")
SETTLED = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    '[data-test-script-state="notRunning"]'
)
MARKERS = ("<!-- loadtest:start -->", "<!-- loadtest:end -->")


@dataclasses.dataclass
class Results:
    """What the sessions and the load loop saw."""

    latencies: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    errors: list[str] = dataclasses.field(default_factory=list)
    publishes: list[float] = dataclasses.field(default_factory=list)  # seconds per load
    load_busy: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    during_load: int = 0
    by_client: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    window_s: float = 0.0
    browser: str = "?"

    def error(self, session: int, text: str) -> None:
        message = f"Sitzung {session}: {text}"
        self.errors.append(message)
        print("FEHLER", message, file=sys.stderr, flush=True)


# --- processes --------------------------------------------------------------------------


def _free_ports(count: int) -> int:
    """A port p on 127.0.0.1 such that p .. p + count are all free right now."""
    while True:
        base = free_port()
        sockets = []
        try:
            for port in range(base, base + count + 1):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()


@contextlib.contextmanager
def dashboard(
    env: dict[str, str], log_path: Path, processes: int = 1
) -> Iterator[tuple[str, list[int]]]:
    """The dashboard as ``kohorte serve`` runs it: one process on a free local port, or
    ``processes`` of them behind HAProxy with the service's own configuration
    (``kohorte.ops.service.proxy_config``). Yields (base URL, the dashboards' PIDs)."""
    from kohorte.config import load_settings
    from kohorte.ops import service

    base = _free_ports(processes)
    settings = dataclasses.replace(
        load_settings(), dashboard_port=base, dashboard_processes=processes
    )
    base_url = f"http://127.0.0.1:{base}"
    started: list[subprocess.Popen] = []
    try:
        with log_path.open("wb") as log:
            for port in service.dashboard_ports(settings):
                command = [
                    sys.executable, "-m", "streamlit", "run", str(APP),
                    "--server.headless=true", "--server.address=127.0.0.1",
                    f"--server.port={port}", "--browser.gatherUsageStats=false",
                ]  # fmt: skip
                started.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )  # fmt: skip
                )
            dashboards = [p.pid for p in started]
            if processes > 1:
                config = log_path.with_name("haproxy.cfg")
                config.write_text(service.proxy_config(settings), encoding="utf-8")
                started.append(
                    subprocess.Popen(
                        [service.PROXY, "-W", "-db", "-f", str(config)],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )  # fmt: skip
                )
        deadline = time.monotonic() + STARTUP_S
        urls = [f"http://127.0.0.1:{p}" for p in service.dashboard_ports(settings)]
        while not all(healthy(f"{u}/_stcore/health", timeout=2) for u in [base_url, *urls]):
            if any(p.poll() is not None for p in started) or time.monotonic() > deadline:
                raise RuntimeError(f"Dashboard startet nicht:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield base_url, dashboards
    finally:
        for process in started:
            stop_group(process)


def _run(env: dict[str, str], *args: str) -> None:
    """One ``kohorte`` command to its end; its output only when it fails."""
    done = subprocess.run(
        [str(KOHORTE), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode:
        raise RuntimeError(f"kohorte {' '.join(args)}: {done.stdout}\n{done.stderr}")


def prepare(home: Path, env: dict[str, str], sessions: int, fresh: bool) -> list[str]:
    """Demo data and a first load (unless ``home`` is already loaded), and one account per
    session; returns the account names."""
    if fresh:
        print("Erzeuge Demodaten und lade sie einmal …", flush=True)
        _run(env, "generate")
        _run(env, "load", "--plain")
    os.environ.update({k: env[k] for k in ("KOHORTE_HOME", "KOHORTE_PSEUDONYM_KEY")})
    settings = load_settings()
    names = []
    for index in range(sessions):
        name = f"last-{index:02d}"
        with contextlib.suppress(KeyError):  # a home prepared before may hold them already
            accounts.remove_user(settings, name)
        accounts.add_user(settings, name, ROLES[index % len(ROLES)], PASSWORD)
        names.append(name)
    return names


# --- memory -----------------------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


@dataclasses.dataclass
class Memory:
    """Peaks sampled once a second: dashboard RSS, browser PSS (all its processes)."""

    dashboard_pids: list[int]
    exclude: set[int] = dataclasses.field(default_factory=set)
    dashboard_peak_kib: int = 0
    browser_peak_kib: int = 0
    browser_processes: int = 0
    available_min_kib: int = 1 << 62

    def sample(self) -> None:
        self.dashboard_peak_kib = max(  # the largest process: each must stay under its limit
            self.dashboard_peak_kib, *(_status_kib(p, "VmHWM") for p in self.dashboard_pids)
        )
        theirs = set().union(*(_descendants(p) for p in self.dashboard_pids))
        mine = _descendants(os.getpid()) - theirs - self.exclude
        browser = [pid for pid in mine if "chrom" in _comm(pid)]
        self.browser_processes = max(self.browser_processes, len(browser))
        self.browser_peak_kib = max(self.browser_peak_kib, sum(_pss_kib(p) for p in browser))
        self.available_min_kib = min(self.available_min_kib, _mem_available_kib())


def _comm(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return ""


# --- sessions ---------------------------------------------------------------------------


async def _settled(page: Page) -> None:
    """Streamlit is connected and no script run is going on."""
    await page.locator(SETTLED).wait_for(state="attached", timeout=WAIT_MS)


async def _visible(page: Page, locator) -> None:
    await locator.first.wait_for(state="visible", timeout=WAIT_MS)
    await _settled(page)


async def sign_in(page: Page, base_url: str, name: str) -> None:
    await page.goto(f"{base_url}/")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await _visible(page, page.get_by_test_id("stMetricLabel").filter(has_text="Integrationsquote"))


async def _nav(page: Page, title: str) -> None:
    await page.get_by_role("link", name=title, exact=True).first.click()


async def overview(page: Page) -> None:
    await _nav(page, "Überblick")
    await _visible(page, page.get_by_test_id("stMetricLabel").filter(has_text="Integrationsquote"))
    await _visible(page, page.locator(".vega-embed").locator("canvas, svg.marks"))


async def gender_filter(page: Page) -> None:
    """Choose a gender in the filter bar (opened first if closed); the URL follows."""
    select = page.get_by_test_id("stSelectbox").filter(has_text="Geschlecht")
    if not await select.is_visible():
        await page.get_by_text("Filter", exact=True).first.click()
        await select.wait_for(state="visible", timeout=WAIT_MS)
    code, label = random.choice((("w", "weiblich"), ("m", "männlich")))
    if code in page.url:  # already chosen: take the other one, so the page must rerun
        code, label = ("m", "männlich") if code == "w" else ("w", "weiblich")
    combobox = select.get_by_role("combobox")
    await combobox.click()
    # headless chromium with locale de-DE: the click focuses the box but often leaves the
    # list closed; the arrow key opens it, as it would for a keyboard user
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_selector('[role="option"]', timeout=1000)
    if await combobox.get_attribute("aria-expanded") != "true":
        await page.keyboard.press("ArrowDown")
    await page.get_by_role("option", name=label, exact=True).click()
    await page.wait_for_url(re.compile(rf"geschlecht={code}"), timeout=WAIT_MS)
    await _settled(page)


async def status_page(page: Page) -> None:
    await _nav(page, "Datenstand")
    await _visible(page, page.get_by_role("heading", name="Datenprüfungen"))


async def cohorts(page: Page) -> None:
    await _nav(page, "Kohorten")
    await _visible(page, page.get_by_role("heading", name="Vom Eintritt zur Integration"))
    await _visible(page, page.locator(".vega-embed").first.locator("canvas, svg.marks"))


async def cohort_click(page: Page) -> None:
    """Click a cell in the triangle's first row: that cohort becomes the filter."""
    triangle = page.locator(".vega-embed").first
    box = await triangle.bounding_box()
    if box is None:
        raise RuntimeError("kein Kohortendreieck")
    await page.mouse.click(box["x"] + 120, box["y"] + 30)
    await page.wait_for_url(re.compile(r"kohorte=\d{4}-\d{2}"), timeout=WAIT_MS)
    await _visible(page, page.get_by_test_id("stDataFrame"))


async def people(page: Page) -> None:
    await _nav(page, "Teilnehmende")
    await _visible(page, page.get_by_text("Eine Zeile wählen", exact=False))
    await _visible(page, page.get_by_test_id("stDataFrame"))


async def open_person(page: Page) -> None:
    """Tick the list's first row: that person's timeline opens."""
    await page.wait_for_timeout(300)  # the grid draws its rows on a canvas
    box = await page.get_by_test_id("stDataFrame").first.bounding_box()
    if box is None:
        raise RuntimeError("keine Liste")
    await page.mouse.click(box["x"] + 14, box["y"] + 35 + 18)
    await _visible(page, page.get_by_role("heading", name=re.compile(r"^Zeitleiste: [0-9a-f]+")))


# a person's round through the cockpit; Datenstand (no filter bar) resets the filters
BROWSER_ACTIONS: dict[str, Callable[[Page], Awaitable[None]]] = {
    "Überblick": overview,
    "Filter": gender_filter,
    "Datenstand": status_page,
    "Kohorten": cohorts,
    "Kohorte anklicken": cohort_click,
    "Teilnehmende": people,
    "Person öffnen": open_person,
}
# a person's round through the cockpit; Datenstand (no filter bar) resets the filters
TOUR = tuple(BROWSER_ACTIONS)


async def _shows_error(page: Page) -> str | None:
    if await page.get_by_test_id("stException").count():
        return "Exception im Browser"
    if await page.get_by_test_id("stAlertContentError").count():
        return "Fehlerbox: " + " ".join(
            await page.get_by_test_id("stAlertContentError").all_inner_texts()
        )
    for text in ERROR_TEXTS:
        if await page.get_by_text(text).count():
            return text
    return None


class BrowserPerson:
    """A session in its own chromium context; records HTTP errors, page and console errors
    and websocket drops as they happen."""

    def __init__(self, index: int, name: str, base_url: str, results: Results) -> None:
        self.index, self.name, self.base_url, self.results = index, name, base_url, results
        self.closing = False
        self.navigating = False

    async def start(self, browser: Browser) -> None:
        self.context = await browser.new_context(viewport=VIEWPORT, locale="de-DE")
        self.context.set_default_timeout(WAIT_MS)
        self.page = await self.context.new_page()
        self._watch()

    def _watch(self) -> None:
        page, index, results = self.page, self.index, self.results

        def response(resp) -> None:
            if resp.status >= 400:
                results.error(index, f"HTTP {resp.status} {resp.url}")

        def console(message) -> None:
            if message.type == "error":
                results.error(index, f"Konsole: {message.text}")

        def closed(ws) -> None:
            if not (self.closing or self.navigating):  # our own reload closes it, too
                results.error(index, f"Websocket zu: {ws.url}")

        page.on("response", response)
        page.on("console", console)
        page.on("pageerror", lambda error: results.error(index, f"Seitenfehler: {error}"))
        page.on("websocket", lambda ws: ws.on("close", lambda _: closed(ws)))

    async def sign_in(self) -> None:
        self.navigating = True
        try:
            await sign_in(self.page, self.base_url, self.name)
        finally:
            self.navigating = False

    async def do(self, kind: str) -> None:
        await BROWSER_ACTIONS[kind](self.page)

    async def shows_error(self) -> str | None:
        return await _shows_error(self.page)

    async def close(self) -> None:
        self.closing = True
        await self.context.close()


# --- websocket clients ------------------------------------------------------------------


def _arrow(data: bytes) -> pa.Table:
    """A chart's dataset as Streamlit sends it (Arrow IPC)."""
    return pa.ipc.open_stream(data).read_all()


def _state(widget_id: str, value: str) -> WidgetState:
    state = WidgetState(id=widget_id)
    state.string_value = value
    return state


class StreamlitClient:
    """A session as a websocket client speaking Streamlit's own protocol, as the browser's
    frontend does: it asks for a script run with the page, the URL's query string and the
    widget values, and reads the elements until the run has finished. No rendering: it
    costs the client almost no CPU, so the machine's cores serve the dashboard."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.elements: list = []
        self.query = ""
        self.pages: dict[str, str] = {}
        self.page_hash = ""
        self.states: dict[str, WidgetState] = {}

    async def open(self) -> None:
        self.ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=None,
            open_timeout=WAIT_MS / 1000, ping_timeout=WAIT_MS / 1000,
        )  # fmt: skip
        await self.rerun()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def rerun(self, *changes: WidgetState, page: str | None = None) -> None:
        """One script run to its end, as a click would cause it."""
        if page is not None:  # another page: its own widgets, a fresh query string
            self.page_hash, self.query, self.states = self.pages[page], "", {}
        triggers = [c for c in changes if c.HasField("trigger_value")]
        self.states.update({c.id: c for c in changes if not c.HasField("trigger_value")})
        back = BackMsg()
        back.rerun_script.query_string = self.query
        back.rerun_script.page_script_hash = self.page_hash
        back.rerun_script.widget_states.widgets.extend([*self.states.values(), *triggers])
        await self.ws.send(back.SerializeToString())
        self.elements = []
        async with asyncio.timeout(WAIT_MS / 1000):
            while True:
                message = ForwardMsg()
                message.ParseFromString(await self.ws.recv())
                kind = message.WhichOneof("type")
                if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    self.elements.append(message.delta.new_element)
                elif kind == "navigation":
                    self.pages = {
                        p.page_name: p.page_script_hash for p in message.navigation.app_pages
                    }
                    self.page_hash = message.navigation.page_script_hash
                elif kind == "page_info_changed":
                    self.query = message.page_info_changed.query_string
                elif kind == "page_not_found":
                    raise RuntimeError("Seite nicht gefunden")
                elif kind == "script_finished":
                    if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        self.elements = []  # st.rerun(): the next run follows by itself
                        continue
                    if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        raise RuntimeError("Skriptfehler")
                    break
        shown = {getattr(e, e.WhichOneof("type")).id for e in self.elements if self._is_widget(e)}
        self.states = {k: v for k, v in self.states.items() if k in shown}

    @staticmethod
    def _is_widget(element) -> bool:
        return bool(getattr(getattr(element, element.WhichOneof("type")), "id", ""))

    def of(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def widget(self, kind: str, key: str):
        found = [w for w in self.of(kind) if w.id.endswith(f"-{key}")]
        if not found:
            raise RuntimeError(f"kein {kind} {key}")
        return found[0]

    def expect(self, kind: str, text: str) -> None:
        """An element of that kind whose label or text starts with ``text``."""
        for element in self.of(kind):
            if (getattr(element, "label", "") or getattr(element, "body", "")).startswith(text):
                return
        raise RuntimeError(f"{kind} {text!r} fehlt")

    def shows_error(self) -> str | None:
        if self.of("exception"):
            return "Exception: " + self.of("exception")[0].message
        errors = [a.body for a in self.of("alert") if a.format == Alert.ERROR]
        return "Fehlerbox: " + errors[0] if errors else None


class SocketPerson:
    """A session as a websocket client; the same tour as in the browser."""

    def __init__(self, index: int, name: str, base_url: str, results: Results) -> None:
        self.name, self.base_url = name, base_url
        self.client: StreamlitClient | None = None

    async def start(self, browser: Browser | None = None) -> None:
        pass

    async def sign_in(self) -> None:
        if self.client is not None:
            await self.client.close()
        self.client = client = StreamlitClient(self.base_url)
        await client.open()  # the sign-in form
        submit = next(b for b in client.of("button") if b.is_form_submitter)
        trigger = WidgetState(id=submit.id)
        trigger.trigger_value = True
        await client.rerun(
            _state(client.widget("text_input", "sign_in_name").id, self.name),
            _state(client.widget("text_input", "sign_in_password").id, PASSWORD),
            trigger,
        )
        client.expect("metric", "Integrationsquote")

    async def do(self, kind: str) -> None:
        client = self.client
        assert client is not None
        if kind in ("Überblick", "Datenstand", "Kohorten", "Teilnehmende"):
            await client.rerun(page=kind)
            expected = {
                "Überblick": ("metric", "Integrationsquote"),
                "Datenstand": ("heading", "Datenprüfungen"),
                "Kohorten": ("heading", "Vom Eintritt zur Integration"),
                "Teilnehmende": ("markdown", "Eine Zeile wählen"),
            }[kind]
            client.expect(*expected)
        elif kind == "Filter":
            label = "männlich" if "geschlecht=w" in client.query else "weiblich"
            await client.rerun(_state(client.widget("selectbox", "f_gender").id, label))
            if f"geschlecht={label[0]}" not in client.query:
                raise RuntimeError(f"Filter nicht in der Adresse: {client.query}")
        elif kind == "Kohorte anklicken":
            # the newest cohort in the triangle, as a click into its first row picks it
            # (the newest entry month of the filter may have no finished week, no row)
            chart = next((c for c in client.of("vega_lite_chart") if c.id), None)
            in_triangle = (
                {
                    k
                    for d in chart.datasets
                    for k in _arrow(d.data.data).column("kohorte").to_pylist()
                }
                if chart
                else set()
            )
            if not in_triangle:
                raise RuntimeError(
                    f"Kohortenseite unvollständig: Dreieck {'leer' if chart else 'fehlt'}"
                )
            cohort = max(in_triangle)
            pick = {"selection": {COHORT_PICK: [{"kohorte": cohort}]}}
            await client.rerun(_state(chart.id, json.dumps(pick)))
            if f"kohorte={cohort}" not in client.query:
                raise RuntimeError(f"Kohorte nicht in der Adresse: {client.query}")
            if not client.of("dataframe"):
                raise RuntimeError("keine Liste")
        elif kind == "Person öffnen":
            grid = next(d for d in client.of("dataframe") if d.id)
            rows = {"selection": {"rows": [0], "columns": [], "cells": []}}
            await client.rerun(_state(grid.id, json.dumps(rows)))
            client.expect("heading", "Zeitleiste: ")

    async def shows_error(self) -> str | None:
        return self.client.shows_error() if self.client else None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


CLIENTS = {"BrowserPerson": "chromium", "SocketPerson": "websocket"}


# --- one person -------------------------------------------------------------------------


async def session(
    person: BrowserPerson | SocketPerson,
    index: int,
    browser: Browser | None,
    arrival_s: float,
    stop: asyncio.Event,
    results: Results,
) -> None:
    """One person: arrive, sign in, then tour the cockpit until ``stop``."""
    rng = random.Random(index)
    step = -1  # -1: sign in first
    try:
        await person.start(browser)
        await asyncio.sleep(arrival_s)  # people do not all arrive in the same second
        while not stop.is_set():
            kind = "Anmelden" if step < 0 else TOUR[step]
            began = time.monotonic()
            try:
                await (person.sign_in() if step < 0 else person.do(kind))
            except Exception as error:  # a failed wait is an error; start over with a sign-in
                if stop.is_set():
                    break
                results.error(index, f"{kind}: {type(error).__name__}: {str(error)[:300]}")
                step = -1
                continue
            elapsed = time.monotonic() - began
            results.latencies.setdefault(kind, []).append(elapsed)
            results.by_client.setdefault(type(person).__name__, []).append(elapsed)
            if any(start < time.monotonic() and began < end for start, end in results.load_busy):
                results.during_load += 1
            shown = await person.shows_error()
            if shown:
                results.error(index, f"{kind}: {shown}")
            step = (step + 1) % len(TOUR)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(*THINK_S))
    finally:
        await person.close()


# --- the nightly load during the run ----------------------------------------------------


async def publisher(
    env: dict[str, str], stop: asyncio.Event, results: Results, publishes: int, seconds: float
) -> None:
    """``kohorte load`` ``publishes`` times, spread evenly over the ``seconds`` of the run,
    or (0) again and again until ``stop``; each load publishes a new version."""
    command = [str(KOHORTE), "load"] + ([] if env.get("LOADTEST_PREFECT") == "1" else ["--plain"])
    start = time.monotonic()
    while not stop.is_set() and (not publishes or len(results.load_busy) < publishes):
        if publishes:
            due = start + seconds * (len(results.load_busy) + 1) / (publishes + 1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))
            if stop.is_set():
                break
        began = time.monotonic()
        results.load_busy.append((began, float("inf")))
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            output, _ = await process.communicate()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            raise
        results.load_busy[-1] = (began, time.monotonic())
        if process.returncode:
            results.error(-1, f"kohorte load: {output.decode(errors='replace')[-2000:]}")
            await asyncio.sleep(2)
        else:
            results.publishes.append(time.monotonic() - began)
            print(f"  veröffentlicht ({time.monotonic() - began:.1f} s)", flush=True)


async def warm_up(base_url: str, name: str) -> None:
    """One untimed round first: a dashboard people use has imported its libraries and
    compiled its pages long before (the very first run takes 10-15 s here)."""
    person = SocketPerson(0, name, base_url, Results())
    try:
        await person.sign_in()
        for kind in TOUR:
            await person.do(kind)
    finally:
        await person.close()


async def drive(
    base_url: str,
    names: list[str],
    env: dict,
    seconds: float,
    browsers: int,
    memory: Memory,
    publishes: int = 1,
) -> Results:
    """Sessions and load loop together for ``seconds``; a load still running then finishes
    (the sessions go on meanwhile), so every publish happens under load. The first
    ``browsers`` sessions are chromium pages, the others websocket clients."""
    results = Results()
    stop_sessions, stop_loads = asyncio.Event(), asyncio.Event()
    try:
        await warm_up(base_url, names[0])
    except Exception as error:
        results.error(0, f"Aufwärmen: {type(error).__name__}: {str(error)[:300]}")
        return results
    arrivals = min(10.0, seconds / 4)  # everyone has signed in within the first seconds
    async with async_playwright() as playwright:
        browser = None
        if browsers:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            results.browser = browser.version
        try:
            began = time.monotonic()
            loads = asyncio.create_task(publisher(env, stop_loads, results, publishes, seconds))
            people_ = []
            for index, name in enumerate(names):
                kind = BrowserPerson if index < browsers else SocketPerson
                person = kind(index, name, base_url, results)
                arrival = arrivals * index / len(names)
                people_.append(
                    asyncio.create_task(
                        session(person, index, browser, arrival, stop_sessions, results)
                    )
                )
            try:
                while time.monotonic() - began < seconds:
                    await asyncio.sleep(1)
                    memory.sample()
                stop_loads.set()
                while not loads.done():
                    await asyncio.sleep(1)
                    memory.sample()
                results.window_s = time.monotonic() - began
                stop_sessions.set()
                await asyncio.gather(loads, *people_)
            finally:
                for task in (loads, *people_):
                    task.cancel()
                await asyncio.gather(loads, *people_, return_exceptions=True)
        finally:
            if browser is not None:
                await browser.close()
    return results


# --- report -----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def summary(results: Results, sessions: int, memory: Memory) -> dict:
    kinds = ["Anmelden", *TOUR]
    every = [v for values in results.latencies.values() for v in values]

    def figures(values: list[float]) -> dict:
        if not values:
            return {"n": 0}
        return {
            "n": len(values),
            "p50": percentile(values, 0.5),
            "p95": percentile(values, 0.95),
            "max": max(values),
        }

    return {
        "sessions": sessions,
        "window_s": round(results.window_s, 1),
        "interactions": len(every),
        "during_load": results.during_load,
        "errors": len(results.errors),
        "error_texts": results.errors[:50],
        "publishes": len(results.publishes),
        "load_s": figures(results.publishes),
        "overall": figures(every),
        "by_kind": {kind: figures(results.latencies.get(kind, [])) for kind in kinds},
        "by_client": {
            CLIENTS[name]: figures(values) for name, values in sorted(results.by_client.items())
        },
        "dashboard_peak_rss_mib": round(memory.dashboard_peak_kib / 1024),
        "browser_peak_pss_mib": round(memory.browser_peak_kib / 1024),
        "browser_processes": memory.browser_processes,
        "min_available_mib": round(memory.available_min_kib / 1024),
        "browser": results.browser,
    }


def _version(module: str) -> str:
    from importlib.metadata import version

    return version(module)


def machine() -> str:
    """Cores, memory, CPU, versions: what the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    total = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("streamlit", "duckdb", "pandas", "playwright")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {total:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {versions}"
    )


def _s(value: float) -> str:
    return f"{value:.2f} s"


def markdown(figures: dict, command: str, browsers: int) -> str:
    """The report block for docs/reliability.md."""
    overall = figures["overall"]
    lines = [
        f"Measured {dt.date.today().isoformat()} with `{command}` on {machine()}, "
        f"Debian chromium {figures['browser']}. Browsers, server and nightly load share the "
        "same cores (load average before the load test started: "
        f"{figures.get('load_average_before', 0):.2f}; above ~0.5 other work was running and "
        "the figures are an upper bound).",
        "",
        f"{figures.get('dashboard_processes', 1)} dashboard process(es)"
        + (
            " behind HAProxy with sticky sessions, as `kohorte serve` runs them. "
            if figures.get("dashboard_processes", 1) > 1
            else ". "
        )
        + f"{figures['sessions']} sessions, each with its own account (alternately `teamleitung` "
        f"and `analyse`): {browsers} real chromium pages (one browser, a context each) and "
        f"{figures['sessions'] - browsers} websocket clients that speak Streamlit's own "
        "protocol as the browser's frontend does (they ask for the same script runs with the "
        "same widget values, but render nothing, so that the two cores serve the dashboard "
        "rather than 20 renderers; 20 chromium pages alone saturated them, with sign-ins "
        "over 60 s). Every session signs in and then tours Überblick, a gender filter, "
        "Datenstand, Kohorten, a click into the cohort triangle, Teilnehmende and a "
        "person's timeline, with 1-3 s pauses, "
        f"for {figures['window_s']:.0f} s, while `kohorte load --plain` published "
        + (
            f"{figures['publishes']} new warehouse versions back to back"
            if figures.get("publishes_asked") == 0
            else f"{figures['publishes']} new warehouse version(s), spread over the run"
        )
        + f" (a load took {_s(figures['load_s'].get('p50', 0))} median)."
        " A publish turns every cached result cold."
        " A latency runs from the click (or "
        "the message) until the expected element is there and Streamlit's script run has "
        "finished.",
        "",
        f"- **Errors: {figures['errors']}** (exceptions or error boxes shown, failed waits, "
        "closed websockets, HTTP errors, browser errors, tracebacks in the server log, "
        "failed loads)",
        f"- Interactions: {figures['interactions']} ({figures['during_load']} of them while "
        "a load was running)",
        f"- Latency, all interactions: p50 {_s(overall.get('p50', 0))}, "
        f"p95 {_s(overall.get('p95', 0))}, max {_s(overall.get('max', 0))}",
    ]
    for client, row in figures["by_client"].items():
        lines.append(
            f"- Latency, {client} sessions: p50 {_s(row['p50'])}, p95 {_s(row['p95'])} "
            f"({row['n']} interactions)"
        )
    seen = sorted({re.sub(r"^Sitzung -?\d+: ", "", e)[:160] for e in figures["error_texts"]})
    if seen:
        lines += ["- Errors seen:", *(f"  - {text}" for text in seen[:8])]
    lines += [
        f"- Memory: largest dashboard process peak RSS {figures['dashboard_peak_rss_mib']} MiB; "
        f"chromium peak PSS {figures['browser_peak_pss_mib']} MiB "
        f"({figures['browser_processes']} processes); lowest available memory during the "
        f"run {figures['min_available_mib']} MiB",
        "",
        "| interaction | n | p50 | p95 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, row in figures["by_kind"].items():
        if row["n"]:
            lines.append(
                f"| {kind} | {row['n']} | {_s(row['p50'])} | {_s(row['p95'])} | {_s(row['max'])} |"
            )
    return "\n".join(lines)


def write_block(doc: Path, text: str) -> None:
    """Replace only the load test's block between its markers."""
    content = doc.read_text(encoding="utf-8")
    start, end = MARKERS
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    doc.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")


def _server_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or " failed" in line]


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, default=int(os.environ.get("LOADTEST_SESSIONS", "50"))
    )
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("LOADTEST_SECONDS", "120"))
    )
    parser.add_argument(
        "--browsers",
        type=int,
        default=int(os.environ.get("LOADTEST_BROWSERS", "3")),
        help="how many of the sessions are chromium pages (the others websocket clients)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=int(os.environ.get("KOHORTE_DASHBOARD_PROCESSES") or os.cpu_count() or 1),
        help="dashboard processes behind HAProxy (1: one process, no proxy)",
    )
    parser.add_argument(
        "--publishes",
        type=int,
        default=int(os.environ.get("LOADTEST_PUBLISHES", "1")),
        help="loads that publish during the run, spread evenly (0: back to back)",
    )
    parser.add_argument("--home", type=Path, help="an already loaded KOHORTE_HOME to copy")
    parser.add_argument("--report", type=Path, help="write the figures into this Markdown file")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} fehlt: `make browser`", file=sys.stderr)
        return 2

    # SIGTERM ends the run like Ctrl+C, so every finally below stops its processes
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    workdir = Path(tempfile.mkdtemp(prefix="kohorte-loadtest-"))
    home = workdir / "home"
    if args.home:
        shutil.copytree(args.home, home, symlinks=True)
    env = {
        **os.environ,
        "KOHORTE_HOME": str(home),
        "KOHORTE_PSEUDONYM_KEY": os.environ.get("KOHORTE_PSEUDONYM_KEY")
        if args.home
        else secrets.token_hex(16),
        "PREFECT_HOME": str(workdir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    load_before = os.getloadavg()[0]  # before our own set-up: other work skews the figures
    try:
        names = prepare(home, env, args.sessions, fresh=args.home is None)
        log = workdir / "streamlit.log"
        with dashboard(env, log, args.processes) as (base_url, pids):
            print(
                f"{args.sessions} Sitzungen, {args.seconds:.0f} s gegen {base_url} "
                f"({args.processes} Dashboard-Prozesse) …",
                flush=True,
            )
            memory = Memory(pids)
            results = asyncio.run(
                drive(base_url, names, env, args.seconds, args.browsers, memory, args.publishes)
            )
            memory.sample()
        for line in _server_errors(log):
            results.error(-1, f"Server-Log: {line}")
    except KeyboardInterrupt:
        print("abgebrochen", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    figures = summary(results, args.sessions, memory)
    figures["load_average_before"] = round(load_before, 2)
    figures["dashboard_processes"] = args.processes
    figures["publishes_asked"] = args.publishes
    print(json.dumps({k: v for k, v in figures.items() if k != "error_texts"}, indent=2))
    for text in figures["error_texts"]:
        print("  ", text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.report:
        default = (args.sessions, args.seconds, args.browsers, args.publishes) == (50, 120, 3, 1)
        command = "make loadtest" if default else " ".join(["scripts/loadtest.py", *sys.argv[1:]])
        write_block(args.report, markdown(figures, command, args.browsers))
    failed = figures["errors"] or not figures["interactions"] or not figures["publishes"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
