"""The dashboard in a real browser: Streamlit served locally, Debian's chromium via Playwright."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import TEST_KEY
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Download,
    Locator,
    Page,
    Request,
    expect,
    sync_playwright,
)

from dashboard.app import PAGES
from dashboard.i18n import CODE_LABELS, TEXTS
from kohorte.config import Settings
from kohorte.ops import accounts
from kohorte.ops.service import stop_group
from kohorte.present.charts import VEGA_LOCALES
from kohorte.read import fmt
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 1366, "height": 768}
TALL_VIEWPORT = {"width": 1366, "height": 1400}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STARTUP_TIMEOUT_S = 60
TIMEOUT_MS = 30_000
ERROR_TEXTS = (
    "Die Daten konnten nicht gelesen werden",
    "The data could not be read",
)
USER, PASSWORD = "e2e-teamleitung", "ein-langes-e2e-passwort"
ANALYST = "e2e-analyse"
COACH, MANAGER = "e2e-coach", "e2e-leitung"
# pages without the filter bar
UNFILTERED = ("datenstand", "sql", "protokoll", "wirkung", "berichte")
# the navigation's title of each page in either language, from the app's own page table
NAV_TITLES, NAV_TITLES_EN = (
    {view: TEXTS[title][language] for view, title, *_ in PAGES} for language in ("de", "en")
)
# each role's walk through its pages, its default page (at "/") first; which pages a role
# has is the app's to say (app.PAGES and the access rules): the tours check the navigation
# against these, the order is the tours' own (Datenstand, with no filter bar, between
# filtered pages, so the filter must survive it)
TOURS = {
    USER: ("ueberblick", "kohorten", "datenstand", "sql", "protokoll", "wirkung", "berichte")
    + ("teilnehmende",),
    COACH: ("fallbestand", "ueberblick", "datenstand", "kohorten", "teilnehmende"),
    ANALYST: ("ueberblick", "kohorten", "wirkung", "datenstand", "sql", "teilnehmende"),
    MANAGER: ("ueberblick", "datenstand", "wirkung", "berichte", "kohorten"),
}
# Streamlit's (and its components') own English texts: none may show on a German page
ENGLISH_DEFAULTS = (
    "Running...", "Stop", "Choose options", "Choose an option", "No results", "empty",
    "dd.mm.yyyy", "yyyy/mm/dd", "APPLY", "CTRL+ENTER", "Ctrl", "Deploy", "Rerun", "Settings",
    "Print", "Record a screencast", "About", "Clear cache", "Developer options",
    "Made with Streamlit", "Page not found", "Show password", "Hide password",
)  # fmt: skip
SERVER_LOGS: dict[str, Path] = {}  # base URL -> the server's combined stdout/stderr


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def _serve(settings: Settings, log_dir: Path, **extra_env: str) -> Iterator[str]:
    """The dashboard over ``settings.home``'s published warehouse, on a free local port,
    with the test account; stopped (process group) on exit."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env["KOHORTE_HOME"] = str(settings.home)
    env["KOHORTE_PSEUDONYM_KEY"] = TEST_KEY
    env.update(extra_env)
    with contextlib.suppress(ValueError):  # the session's sample home is shared
        accounts.add_user(settings, USER, "teamleitung", PASSWORD)
    with contextlib.suppress(ValueError):
        accounts.add_user(settings, ANALYST, "analyse", PASSWORD)
    with contextlib.suppress(ValueError):
        accounts.add_user(settings, COACH, "coach", PASSWORD, "Anja Krüger")
    with contextlib.suppress(ValueError):
        accounts.add_user(settings, MANAGER, "leitung", PASSWORD)
    log_path = log_dir / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.headless=true",
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(base_url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()}"
                )
            time.sleep(0.5)
        SERVER_LOGS[base_url] = log_path
        yield base_url
    finally:
        stop_group(process)
        SERVER_LOGS.pop(base_url, None)


@pytest.fixture(scope="module")
def dashboard_url(
    sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The dashboard over the published sample warehouse."""
    with _serve(sample_settings, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (Playwright's own browsers are never downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run `make browser` (part of `make test`).")
    expect.set_options(timeout=TIMEOUT_MS)  # the first run imports pandas, altair, duckdb
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at 1366x768 in its own context."""
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


SIGN_IN_BUTTON = re.compile(r"^(Anmelden|Sign in)$")


def _sign_in(page: Page, name: str = USER, password: str = PASSWORD) -> None:
    page.get_by_label(re.compile(r"^(Benutzername|User name)$")).fill(name)
    page.get_by_label(re.compile(r"^(Passwort|Password)$")).fill(password)
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()


def _open(page: Page, url: str, name: str = USER, password: str = PASSWORD) -> None:
    """Open an address; every new browser session signs in first, then sees that page."""
    page.goto(url)
    expect(page.get_by_role("button", name=SIGN_IN_BUTTON)).to_be_visible()
    _sign_in(page, name, password)
    expect(page.get_by_role("button", name=SIGN_IN_BUTTON)).to_have_count(0)


def _wait_for_overview(page: Page, rate_label: str, *, dialog_ok: bool = False) -> None:
    """Wait until the KPI cards and both charts have rendered, with no error and no dialog."""
    metric_labels = page.get_by_test_id("stMetricLabel")
    expect(metric_labels.filter(has_text=rate_label).first).to_be_visible()
    charts = page.locator(".vega-embed").locator("canvas, svg.marks")
    expect(charts).to_have_count(2)
    for index in range(2):
        expect(charts.nth(index)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    for text in ERROR_TEXTS:
        expect(page.get_by_text(text)).to_have_count(0)
    if not dialog_ok:  # e.g. Streamlit's "Page not found"
        expect(page.get_by_role("dialog")).to_have_count(0)


def _download(page: Page, label: str) -> Download:
    """Click the first download button labelled ``label`` and wait for its file."""
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text=label).first.click()
    return download.value


def _exports(settings: Settings) -> str:
    """The details of every export in the audit log, as one text."""
    from kohorte.ops import audit

    entries = audit.read(settings)
    return entries[entries["aktion"] == audit.EXPORT]["details"].str.cat()


def _screenshot(page: Page, name: str) -> Path:
    """A screenshot with a tall viewport: Streamlit scrolls inside its own container."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.set_viewport_size(TALL_VIEWPORT)
    page.wait_for_timeout(500)  # let the charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


def test_first_visit_after_start(dashboard_url: str, page: Page) -> None:
    """The first visit after a server start (first test here) gets the whole app: title,
    language switch, wide layout, no stray page menu and no dialog."""
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    assert page.title() == "Kohorte"
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Sprache")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # one page: no menu
    # wide layout: the four KPI cards of a row share more than 1000 px at 1366 px
    boxes = [m.bounding_box() for m in page.get_by_test_id("stMetric").all()[:4]]
    assert boxes[3]["x"] + boxes[3]["width"] - boxes[0]["x"] > 1000


def test_overview_german(dashboard_url: str, page: Page) -> None:
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")

    assert page.title() == "Kohorte"
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Sprache")).to_be_visible()

    labels = page.get_by_test_id("stMetricLabel")
    for label in ("Aktive Teilnehmende", "Integrationsquote", "Anwesenheitsquote"):
        expect(labels.filter(has_text=label).first).to_be_visible()

    values = page.get_by_test_id("stMetricValue")
    expect(values.filter(has_text=re.compile(r"\d+,\d %")).first).to_be_visible()
    # no English formatting leaks into the German page
    for text in values.all_inner_texts():
        assert not re.search(r"\d\.\d+ ?%", text), f"percent with decimal point: {text!r}"

    caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Datenstand:").first
    expect(caption).to_have_text(re.compile(r"Datenstand: \d{2}\.\d{2}\.\d{4}"))

    for title in ("Eintritte und Austritte je Monat", "Quoten je Monat"):
        expect(page.get_by_role("heading", name=title)).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-de-1366x768.png"))
    assert _screenshot(page, "overview-de.png").stat().st_size > 0


def test_language_switch(dashboard_url: str, page: Page, browser: Browser) -> None:
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")

    select = page.get_by_test_id("stSelectbox").filter(has_text="Sprache")
    expect(select).to_be_visible()
    select.get_by_role("combobox").click()
    page.get_by_role("option", name="English").click()

    _wait_for_overview(page, "Integration rate")
    page.wait_for_url(re.compile(r"[?&]lang=en\b"))
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Language")).to_be_visible()

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        fresh = context.new_page()
        _open(fresh, f"{dashboard_url}/?lang=en")
        _wait_for_overview(fresh, "Attendance rate")
        caption = fresh.get_by_test_id("stCaptionContainer").filter(has_text="Data as of:").first
        expect(caption).to_have_text(re.compile(r"Data as of: \d{2}/\d{2}/\d{4}"))
        expect(fresh.get_by_role("heading", name="Entries and exits per month")).to_be_visible()
        assert _screenshot(fresh, "overview-en.png").stat().st_size > 0
    finally:
        context.close()


def test_no_console_errors_and_offline(dashboard_url: str, page: Page) -> None:
    requests: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda websocket: requests.append(websocket.url))
    page.on("requestfailed", lambda request: _failed(request, errors))
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))

    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    _open(page, f"{dashboard_url}/?lang=en")
    _wait_for_overview(page, "Integration rate")
    page.wait_for_timeout(1000)  # late requests (fonts, icons) after the first render

    assert requests, "no requests recorded"
    foreign = sorted(
        {
            url
            for url in requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        }
    )
    assert not foreign, f"requests left the machine: {foreign}"
    assert not errors, "\n".join(errors)
    assert any(urlsplit(url).scheme == "ws" for url in requests), "no websocket recorded"

    server_log = SERVER_LOGS[dashboard_url].read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def _failed(request: Request, errors: list[str]) -> None:
    """Record a failed request; requests aborted by the next navigation are harmless."""
    if request.failure != "net::ERR_ABORTED":
        errors.append(f"requestfailed: {request.method} {request.url} ({request.failure})")


def test_status_page_through_the_navigation(dashboard_url: str, page: Page) -> None:
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    page.get_by_role("link", name="Datenstand").first.click()
    page.wait_for_url(re.compile(r"/datenstand"))
    expect(page.get_by_role("heading", name="Datenprüfungen")).to_be_visible()
    expect(page.get_by_text("Nächster nächtlicher Lauf")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # the grid's toolbar is there, but without its own CSV download: exports go through
    # Kohorte's buttons, which protect small counts and neutralise formulas
    page.get_by_test_id("stDataFrame").first.hover()
    expect(page.get_by_role("button", name="Search").first).to_be_visible()
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
    assert _screenshot(page, "datenstand-de.png").stat().st_size > 0


def test_cohort_click_through_to_a_participants_timeline(dashboard_url: str, page: Page) -> None:
    """Click a cohort in the triangle, open its participations, pick one, see its timeline."""
    _open(page, f"{dashboard_url}/kohorten")
    triangle = page.locator(".vega-embed").first
    expect(triangle.locator("canvas, svg.marks").first).to_be_visible()
    page.wait_for_timeout(1000)
    box = triangle.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 120, box["y"] + 30)  # a cell in the newest cohort's row
    page.wait_for_url(re.compile(r"kohorte=\d{4}-\d{2}"))
    cohort = re.search(r"kohorte=(\d{4}-\d{2})", page.url).group(1)
    # the list below and the filter follow the click
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    _open(page, f"{dashboard_url}/teilnehmende?kohorte={cohort}")
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    # the chip names the cohort as people write it ("Jan 2026")
    expect(page.get_by_text(f"Kohorte (Monat oder Woche): {fmt.cohort(cohort)}")).to_be_visible()
    page.wait_for_timeout(1000)  # the grid draws on a canvas
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 18)  # first data row's selection box
    expect(
        page.get_by_role("heading", name=re.compile(r"^Zeitleiste: [0-9a-f]{16}$"))
    ).to_be_visible()
    page.wait_for_url(re.compile(r"pid=[0-9a-f]{16}"))
    assert f"kohorte={cohort}" in page.url  # the filter survives the click
    charts = page.locator(".vega-embed").locator("canvas, svg.marks")
    expect(charts.first).to_be_visible()
    assert _screenshot(page, "teilnehmende-de.png").stat().st_size > 0


def test_the_attention_list_comes_first_and_a_click_opens_the_timeline(
    dashboard_url: str, page: Page
) -> None:
    """The team lead's morning: "Heute" is the Überblick's first section, above the cards,
    and a click on a person opens her timeline with the filters kept."""
    _open(page, f"{dashboard_url}/?geschlecht=w")
    heading = page.get_by_role("heading", name="Heute: wer braucht Aufmerksamkeit")
    expect(heading).to_be_visible()
    cards = page.get_by_test_id("stMetricLabel").first
    expect(cards).to_be_visible()
    heading_box, cards_box = heading.bounding_box(), cards.bounding_box()
    assert heading_box is not None and cards_box is not None
    assert heading_box["y"] < cards_box["y"]
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    page.wait_for_timeout(1000)  # the grid draws on a canvas
    assert _screenshot(page, "heute-de.png").stat().st_size > 0
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 18)  # first data row's selection box
    page.wait_for_url(re.compile(r"/teilnehmende\?.*pid=[0-9a-f]{16}"))
    expect(
        page.get_by_role("heading", name=re.compile(r"^Zeitleiste: [0-9a-f]{16}$"))
    ).to_be_visible()
    assert "geschlecht=w" in page.url


def _nav_titles(page: Page) -> list[str]:
    """The titles of the navigation's links, sorted: the pages this person has."""
    nav = page.get_by_test_id("stTopNavLink")
    expect(nav.first).to_be_visible()
    return sorted(text.split("\n")[-1] for text in nav.all_inner_texts())  # after the icon


def _english_defaults(page: Page) -> list[str]:
    """The known English framework texts on the page: visible text, placeholders, the
    labels of buttons (also inside the SQL editor's frame)."""
    texts = [page.inner_text("body")]
    texts += page.eval_on_selector_all(
        "input, textarea, button, [aria-label]",
        "els => els.map(e => [e.placeholder || '', e.innerText || ''].join(' '))",
    )
    for frame in page.frames[1:]:
        with contextlib.suppress(Exception):  # a frame may be gone by now
            texts.append(frame.inner_text("body"))
    words = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_DEFAULTS) + r")\b")
    return sorted({m.group(1) for text in texts for m in words.finditer(text)})


@pytest.mark.parametrize(("who", "views"), TOURS.items())
def test_a_tour_of_every_page_keeps_the_filter_and_speaks_german(
    dashboard_url: str, page: Page, who: str, views: tuple[str, ...]
) -> None:
    """Each role opens its pages through the navigation with a filter set: the filter
    goes along (also past pages without filters, such as Datenstand), and no English
    framework text shows anywhere."""
    _open(page, f"{dashboard_url}/?geschlecht=w", who)
    assert _nav_titles(page) == sorted(NAV_TITLES[view] for view in views), who
    for step, view in enumerate(views):
        if step:  # the navigation's own links carry no query
            page.get_by_role("link", name=NAV_TITLES[view], exact=True).first.click()
            page.wait_for_url(re.compile(rf"/{view}(\?|$)"))
        if view not in UNFILTERED:
            expect(page.get_by_text("Geschlecht: weiblich").first).to_be_visible()
            page.wait_for_url(re.compile(r"geschlecht=w"))
        page.wait_for_timeout(800)  # let components and fragments settle
        assert _english_defaults(page) == [], (who, view)


# German words that may show on an English page: data, not UI texts (the demo data's site
# and coach names are no words of TEXTS today; one that becomes one belongs here)
GERMAN_ALLOWED = {
    "Deutsch",  # the language picker's own option for going back to German
}


def _words(text: str) -> list[str]:
    """The words of a UI text, without code spans (`make run`) and placeholders ({n})."""
    text = re.sub(r"`[^`]*`|\{[^}]*\}", " ", text)
    return re.findall(r"[^\W\d_]+", text)


def _german_words() -> frozenset[str]:
    """Every word (5 letters or more) of a German UI text (TEXTS and the code values' labels)
    that no English text has: "Kohorte" or "Coach" are both, "Teilnahmen" is German only."""
    labels = [*TEXTS.values(), *CODE_LABELS.values()]
    english = {word.casefold() for label in labels for word in _words(label["en"])}
    allowed = {word.casefold() for word in GERMAN_ALLOWED}
    return frozenset(
        word.casefold()
        for label in labels
        for word in _words(label["de"])
        if len(word) >= 5 and word.casefold() not in english | allowed
    )


GERMAN_WORDS = _german_words()


# The SQL page's table browser: the analyst file's own names (German identifiers to type in
# a query) and its data dictionary (kohorte/build/analyst.py, German only), not UI texts
DATA_DICTIONARY = TEXTS["sql_schema"]["en"]
PAGE_TEXTS = """heading => {
  const title = [...document.querySelectorAll("h3")].find(h => h.textContent.trim() === heading);
  const column = title && title.closest('[data-testid="stColumn"]');
  const skipped = column ? [...column.querySelectorAll('[data-testid="stExpander"]')] : [];
  const shown = (e) => !skipped.some((s) => s.contains(e));
  let body = document.body.innerText;
  for (const element of skipped) body = body.replace(element.innerText, " ");
  const attributes = [...document.querySelectorAll("input, textarea, [aria-label], [title]")]
    .filter(shown)
    .map((e) => [e.placeholder || "", e.getAttribute("aria-label") || "",
                 e.getAttribute("title") || ""].join(" "));
  return [body, ...attributes];
}"""


def _page_texts(page: Page) -> list[str]:
    """What a reader (or a screen reader) gets: the visible text, placeholders, aria-labels
    (of chart marks too) and titles, also inside component frames such as the SQL editor;
    without the SQL page's table browser (``DATA_DICTIONARY``)."""
    texts = page.evaluate(PAGE_TEXTS, DATA_DICTIONARY)
    for frame in page.frames[1:]:
        with contextlib.suppress(Exception):  # a frame may be gone by now
            texts.append(frame.inner_text("body"))
    return texts


def _german(page: Page) -> list[str]:
    """The German UI words on the page, each with its surroundings."""
    found = set()
    for text in _page_texts(page):
        for account in (USER, COACH, ANALYST, MANAGER):  # "e2e-teamleitung · team lead"
            text = text.replace(account, " ")
        for match in re.finditer(r"\w+", text):  # "filter_alt" is an icon's name, no word
            if match.group().casefold() in GERMAN_WORDS:
                start, end = max(0, match.start() - 30), match.end() + 30
                found.add(f"{match.group()}: …{' '.join(text[start:end].split())}…")
    return sorted(found)


def _settle(page: Page) -> None:
    """Wait until the page's run is over (no run indicator) and its components have drawn."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    page.wait_for_timeout(800)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _expand_all(page: Page) -> None:
    """Open every folded section (filters, explanations), so their texts are seen too."""
    folded = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(folded.count()):  # each click unfolds one: the next is the first again
        folded.first.click()
    page.wait_for_timeout(300)


def _open_first_timeline(page: Page, title: str) -> None:
    """Click the first person of the page's first grid; her timeline opens below it."""
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    page.wait_for_timeout(1000)  # the grid draws on a canvas
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 18)  # first data row's selection box
    heading = page.get_by_role("heading", name=re.compile(rf"^{title}: [0-9a-f]{{16}}$"))
    expect(heading).to_be_visible()
    expect(page.locator(".vega-embed").locator("canvas, svg.marks").first).to_be_visible()


@pytest.mark.parametrize(("who", "views"), TOURS.items())
def test_a_tour_in_english_shows_no_german(
    dashboard_url: str, page: Page, who: str, views: tuple[str, ...]
) -> None:
    """Each role, in English, opens every page it has through the navigation (and the
    sign-in form before): no German UI text shows, in the text, placeholders or labels."""
    page.goto(f"{dashboard_url}/")  # the search sees German where there is German
    expect(page.get_by_label("Passwort", exact=True)).to_be_visible()
    _settle(page)
    assert {"Anmeldung", "Benutzername", "Passwort"} <= {w.split(":")[0] for w in _german(page)}
    page.goto(f"{dashboard_url}/?lang=en&geschlecht=w")
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    _settle(page)
    found = [f"sign-in: {word}" for word in _german(page)]
    _sign_in(page, who)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    assert _nav_titles(page) == sorted(NAV_TITLES_EN[view] for view in views), who
    for step, view in enumerate((*views, views[0])):  # and back to the start page
        if step:
            page.get_by_role("link", name=NAV_TITLES_EN[view], exact=True).first.click()
        path = "" if view == views[0] else view
        page.wait_for_url(re.compile(rf"/{path}\?(.*&)?lang=en\b"))
        if view not in UNFILTERED:
            expect(page.get_by_text("Gender: female").first).to_be_visible()
        _settle(page)
        found += [f"{view}: {word}" for word in _german(page)]
        _expand_all(page)  # what the folded sections hold
        found += [f"{view}, unfolded: {word}" for word in _german(page)]
        if view == "teilnehmende":  # and a person's timeline
            _open_first_timeline(page, TEXTS["timeline_title"]["en"])
            _settle(page)
            found += [f"{view}, timeline: {word}" for word in _german(page)]
    assert not found, f"German on {who}'s English pages:\n" + "\n".join(dict.fromkeys(found))


def test_kpi_export_downloads_a_german_csv_and_xlsx(
    dashboard_url: str, page: Page, sample_settings: Settings
) -> None:
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    csv_download = _download(page, "CSV")
    data = Path(csv_download.path()).read_bytes()
    assert csv_download.suggested_filename == "kennzahlen_2026-03-26.csv"  # the as-of date
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 correctly
    lines = data.decode("utf-8-sig").split("\r\n")
    # the head: title, as-of date, filters; then the table
    assert lines[:5] == [
        "Kennzahlen",
        "Datenstand;26.03.2026",
        "Filter;keine Filter",
        "",
        "Kennzahl;Wert;Zeitraum von;Zeitraum bis",
    ]
    rate = next(line for line in lines if line.startswith("Integrationsquote;"))
    assert re.fullmatch(r"Integrationsquote;\d+,\d %;\d{2}\.\d{2}\.\d{4};26\.03\.2026", rate)
    xlsx_download = _download(page, "XLSX")
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(xlsx_download.path()).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "Kennzahlen"  # the head's title, then as-of date and filters
    assert rows[4] == ["Kennzahl", "Wert", "Zeitraum von", "Zeitraum bis"]
    from kohorte.define.kpis import CATALOGUE

    assert len(rows) == 5 + len(CATALOGUE)
    rate = next(row for row in rows if row[0] == "Integrationsquote")
    assert isinstance(rate[1], float) and 0 <= rate[1] <= 1  # a number, not "51,5 %"
    page.wait_for_timeout(500)  # the callback's rerun records the export
    exports = _exports(sample_settings)
    assert "kennzahlen_2026-03-26.csv" in exports and "kennzahlen_2026-03-26.xlsx" in exports


def test_cohort_page_renders_its_charts(dashboard_url: str, page: Page) -> None:
    _open(page, f"{dashboard_url}/kohorten")
    expect(page.get_by_role("heading", name="Vom Eintritt zur Integration")).to_be_visible()
    charts = page.locator(".vega-embed").locator("canvas, svg.marks")
    expect(charts).to_have_count(3)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert _screenshot(page, "kohorten-de.png").stat().st_size > 0


def _tooltip(page: Page, mark: Locator, at: tuple[float, float] | None = None) -> Locator:
    """Vega's tooltip for a chart mark (an SVG element), with the mouse over its centre or
    at ``at`` (px from its top left corner, e.g. beside a cell's label)."""
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    assert box is not None
    x, y = at or (box["width"] / 2, box["height"] / 2)
    page.mouse.move(box["x"] + x - 2, box["y"] + y)  # Vega reacts to a move onto the mark
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("#vg-tooltip-element.visible")
    expect(tooltip).to_be_visible()
    return tooltip


def test_chart_tooltips_give_the_counts_and_why_a_cell_is_withheld(
    dashboard_url: str, page: Page
) -> None:
    """A month's point in the rates chart tells its counts ("3 von 7") in German, a grey
    "<3" cell of the cohort triangle tells why it is empty."""
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    rates = page.locator(".vega-embed").nth(1)
    point = rates.locator('path[aria-roledescription="point"][aria-label*=" von "]').first
    tooltip = _tooltip(page, point)
    # the cells' texts run together: "MonatJuli 2025 …Integrationsquote42,9 %Anzahl3 von 7"
    months = "|".join(VEGA_LOCALES["de"]["time"]["months"])
    expect(tooltip).to_contain_text(re.compile(rf"Monat({months}) \d{{4}}"))
    expect(tooltip).to_contain_text(re.compile(r"Integrationsquote\d+,\d\u00a0%"))
    expect(tooltip).to_contain_text(re.compile(r"Anzahl\d+ von \d+"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tooltip-quote-de.png"))

    _open(page, f"{dashboard_url}/kohorten")
    triangle = page.locator(".vega-embed").first
    expect(triangle.locator("svg.marks").first).to_be_visible()
    cell = triangle.locator('path[aria-label*="weniger als"]').first
    tooltip = _tooltip(page, cell, at=(4, 4))  # the corner: the label "<3" has no tooltip
    expect(tooltip).to_contain_text("<3")
    expect(tooltip).to_contain_text("nicht angezeigt: weniger als 3 Fälle")
    page.screenshot(path=str(ARTIFACTS / "tooltip-dreieck-de.png"))


def test_chart_downloads_as_svg_and_png(
    dashboard_url: str, page: Page, sample_settings: Settings
) -> None:
    _open(page, f"{dashboard_url}/")
    _wait_for_overview(page, "Integrationsquote")
    svg_download = _download(page, "SVG")
    svg = Path(svg_download.path()).read_text(encoding="utf-8")
    assert svg_download.suggested_filename == "eintritte-austritte_2026-03-26.svg"
    assert svg.lstrip().startswith("<svg") and "Eintritte" in svg
    assert "Datenstand: 26.03.2026" in svg and "Filter: keine Filter" in svg  # the subtitle
    png_download = _download(page, "PNG")
    assert Path(png_download.path()).read_bytes().startswith(b"\x89PNG")
    exports = _exports(sample_settings)
    assert "eintritte-austritte_2026-03-26.svg" in exports
    assert "eintritte-austritte_2026-03-26.png" in exports


def test_sign_in_refuses_a_wrong_password_and_keeps_the_bookmark(
    dashboard_url: str, page: Page
) -> None:
    page.goto(f"{dashboard_url}/kohorten?raster=woche")
    expect(page.get_by_role("heading", name="Anmeldung")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    _sign_in(page, USER, "ganz-falsches-passwort")
    expect(page.get_by_text("Benutzername oder Passwort ist falsch.")).to_be_visible()
    _sign_in(page)
    expect(page.get_by_role("heading", name="Kohorten")).to_be_visible()
    assert "raster=woche" in page.url  # the bookmarked view opens after signing in
    expect(page.get_by_text(USER)).to_be_visible()
    assert _screenshot(page, "anmeldung-kohorten-de.png").stat().st_size > 0


HOSTILE_COACH = "<script>alert(1)</script>"
HOSTILE_FILE = "anwesenheit_[klick](javascript:alert(2))_20260630.csv"


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A programme whose data carry HTML and Markdown: a coach named like a script tag and
    a rejected file whose name is a Markdown link."""
    from conftest import FIXTURES, KPI_LOAD_DATE, deliver, load, make_settings

    settings = make_settings(tmp_path_factory.mktemp("hostile") / "home")
    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    people = settings.inbox / "teilnehmende_20260630.csv"
    people.write_text(people.read_text().replace("Anja Krüger", HOSTILE_COACH))
    (settings.inbox / HOSTILE_FILE).write_text(
        "kundennummer;datum;status;stunden\n012D000005;31.02.2026;anwesend;3\n"
    )
    load(settings, KPI_LOAD_DATE)
    # the coach filter (where the name shows) needs per-coach views switched on
    with _serve(
        settings, tmp_path_factory.mktemp("streamlit-hostile"), KOHORTE_COACH_VIEWS="1"
    ) as url:
        yield url


def test_html_and_markdown_in_data_show_as_text(hostile_url: str, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _open(page, f"{hostile_url}/datenstand")
    label = HOSTILE_FILE + ": "
    expect(page.get_by_text(label, exact=False).first).to_be_visible()
    expect(page.locator('a[href^="javascript:"]')).to_have_count(0)
    _open(page, f"{hostile_url}/teilnehmende?coach={HOSTILE_COACH}")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    page.get_by_text("Filter", exact=True).first.click()
    coach = page.get_by_test_id("stSelectbox").filter(has_text="Coach")
    # the name as typed, not a script
    expect(coach.locator("input")).to_have_value(HOSTILE_COACH)
    page.wait_for_timeout(1000)
    assert dialogs == []
    expect(page.locator("script", has_text="alert(1)")).to_have_count(0)


def test_analyst_runs_a_join_downloads_it_and_finds_it_in_the_history(
    dashboard_url: str, page: Page, sample_settings: Settings
) -> None:
    """The analysts' browser path: a signed-in analyst runs the join over attendance and
    outcomes, downloads it, and finds it in the history."""
    _open(page, f"{dashboard_url}/sql", ANALYST)
    # the editor is Ace in a component frame, served by the dashboard itself
    frame = page.frame_locator('iframe[title="streamlit_ace.streamlit_ace"]')
    editor = frame.locator(".ace_content")
    expect(editor).to_be_visible()
    query = (
        "select t.teilnahme_id, count(a.datum) as termine, string_agg(distinct e.art, ', ') "
        "as ergebnisse from teilnahmen as t left join anwesenheit as a using (pid) "
        "left join ergebnisse as e using (pid) group by all order by 1"
    )
    editor.click()
    page.keyboard.insert_text(query)
    # highlighted as SQL: keywords get Ace's keyword class
    expect(frame.locator(".ace_keyword", has_text="select").first).to_be_visible()
    # Ace's own button would read "APPLY (CTRL+ENTER)": the page runs it with a German one
    expect(frame.get_by_text(re.compile("apply", re.IGNORECASE))).to_have_count(0)
    page.get_by_role("button", name="Abfrage ausführen").click()
    expect(page.get_by_text(re.compile(r"^[\d.]+ Zeilen, [\d.]+ gezeigt"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert _screenshot(page, "sql-result-de.png").stat().st_size > 0
    csv_download = _download(page, "CSV")
    lines = Path(csv_download.path()).read_bytes().decode("utf-8-sig").split("\r\n")
    # the head (title, as-of date, filters), an empty line, then the table
    assert lines[0] == "Eigene Abfrage" and lines[2] == "Filter;keine Filter", lines[:4]
    header = lines.index("") + 1
    assert lines[header] == "teilnahme_id;termine;ergebnisse" and len(lines) > header + 10
    # a new session: the query is in this person's history
    _open(page, f"{dashboard_url}/sql", ANALYST)
    history = page.get_by_test_id("stSelectbox").filter(has_text="Mein Verlauf")
    history.get_by_role("combobox").click()
    expect(page.get_by_role("option", name=re.compile(r"^select t\.teilnahme_id"))).to_be_visible()
    assert _screenshot(page, "sql-de.png").stat().st_size > 0
