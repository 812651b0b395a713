"""The monthly report and the balance as PDF/A (``kohorte bericht``), on demo data loaded
once: its pages and text, what PDF/A-2b promises, protection, and the same numbers as
``kohorte kpis`` for the same month."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import TEST_KEY, load, make_settings
from pypdf import PdfReader
from pypdf.generic import IndirectObject
from typer.testing import CliRunner

from kohorte import demo
from kohorte.build import warehouse
from kohorte.cli import app
from kohorte.define.kpis import CATALOGUE
from kohorte.define.targets import EXAMPLE
from kohorte.present import bericht

runner = CliRunner()
AS_OF = dt.date(2026, 11, 30)
HEADLINE = [k for k in CATALOGUE if k.section in ("kern", "programmjahr")]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """Demo deliveries to 30.11.2026 loaded the next morning, with the example targets."""
    settings = make_settings(tmp_path_factory.mktemp("bericht") / "home")
    demo.write_deliveries(demo.Programme(end=AS_OF), settings.inbox)
    load(settings, AS_OF + dt.timedelta(days=1))
    (settings.home / "ziele.toml").write_text(EXAMPLE, encoding="utf-8")
    return settings


@pytest.fixture(scope="module")
def env(demo_home):
    return {"KOHORTE_HOME": str(demo_home.home), "KOHORTE_PSEUDONYM_KEY": TEST_KEY}


@pytest.fixture(scope="module")
def monthly(demo_home, env) -> Path:
    """``kohorte bericht`` without options: the last month ended by the as-of date."""
    result = runner.invoke(app, ["bericht"], env=env)
    assert result.exit_code == 0, result.output
    assert "Monatsbericht November 2026" in result.output
    return _kept(demo_home, "monatsbericht-2026-11")


def _kept(settings, stem: str) -> Path:
    """The one report of ``stem`` kept, named by its span, as-of date and version."""
    [path] = settings.reports.glob(f"{stem}_*.pdf")
    assert re.fullmatch(rf"{stem}_stand-2026-11-30_\d{{8}}T\d{{6}}Z\.pdf", path.name)
    return path


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_the_monthly_report_has_its_pages_and_text(monthly):
    first, second, third = _pages(monthly)
    assert "Monatsbericht November 2026" in first and "Auf einen Blick" in first
    assert "Zeitraum 01.11.2026 – 30.11.2026, verglichen mit 01.11.2025 – 30.11.2025" in first
    for kpi in HEADLINE:  # a label may wrap in its cell: compare without line breaks
        assert kpi.label_de.replace(" (12 Monate)", "") in " ".join(first.split())
    assert "Verlauf Dez 2025 – Nov 2026" in first
    assert "Ziel: mindestens 100" in first  # ziele.toml's in_arbeit_programmjahr
    assert "Kennzahl Nov 2026 Nov 2025 Ziel Verlauf Dez 2025 – Nov 2026" in first
    assert "Kohorten: Integration nach Wochen seit Eintritt" in second
    assert "Zeit bis zur Integration" in second
    assert "Ergebnisse nach Art" in third and "Datenqualität" in third
    for number, page in enumerate((first, second, third), start=1):
        assert "Datenstand 30.11.2026" in page and f"Seite {number} von 3" in page
        assert "Kennzahlenkatalog" in page and "Bericht Kohorte" in page
    assert "Vorläufig" not in first  # November has ended by the as-of date


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def test_the_report_is_pdf_a_2b_as_typst_promises(monthly):
    """No veraPDF here: what PDF/A-2b requires and Typst says it does, checked in the
    file. The XMP names part 2, conformance B; the catalogue carries an output intent
    for PDF/A with an embedded ICC profile; every font is embedded; nothing is encrypted."""
    reader = PdfReader(monthly)
    assert monthly.read_bytes()[:8] == b"%PDF-1.7"
    assert not reader.is_encrypted
    xmp = reader.xmp_metadata
    assert xmp is not None
    description = xmp.rdf_root.getElementsByTagNameNS(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"
    )
    found = {}
    for node in description:
        for name in ("part", "conformance"):
            value = node.getAttributeNS("http://www.aiim.org/pdfa/ns/id/", name)
            for child in node.getElementsByTagNameNS("http://www.aiim.org/pdfa/ns/id/", name):
                value = child.firstChild.nodeValue
            if value:
                found[name] = value
    assert found == {"part": "2", "conformance": "B"}
    intents = _resolve(reader.trailer["/Root"])["/OutputIntents"]
    intent = _resolve(intents[0])
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    fonts = 0
    for page in reader.pages:
        stack = [_resolve(page["/Resources"])]
        while stack:
            resources = stack.pop()
            for font in _resolve(resources.get("/Font", {})).values():
                font = _resolve(font)
                descendants = [_resolve(f) for f in font.get("/DescendantFonts", [])] or [font]
                for part in descendants:
                    descriptor = _resolve(part["/FontDescriptor"])
                    assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), part
                    fonts += 1
            for xobject in _resolve(resources.get("/XObject", {})).values():
                xobject = _resolve(xobject)
                if "/Resources" in xobject:
                    stack.append(_resolve(xobject["/Resources"]))
    assert fonts > 0


def _expected(kpi: dict) -> str:
    """A JSON figure of ``kohorte kpis`` as a card writes it, formatted here on its own."""
    if kpi["state"] == "hidden":
        return "<3"
    if kpi["state"] == "protected":
        return "*"
    if kpi["value"] is None:
        return "–"
    if kpi["unit"] == "rate":
        return f"{kpi['value'] * 100:.1f}".replace(".", ",") + " %"
    if kpi["unit"] == "days":
        return f"{kpi['value']:.0f} Tage"
    if kpi["unit"] == "ratio":
        return f"{kpi['value']:.1f}".replace(".", ",")
    return f"{kpi['value']:,.0f}".replace(",", ".")


def test_the_reports_numbers_are_kohorte_kpis_for_the_month(demo_home, env, monthly):
    result = runner.invoke(app, ["kpis", "--json", "--monat", "2026-11"], env=env)
    assert result.exit_code == 0, result.output
    shown = {k["id"]: k for k in json.loads(result.output)["kpis"]}
    con = warehouse.connect_readonly(warehouse.current_path(demo_home))
    try:
        data = bericht.figures(con, demo_home, bericht.month("2026-11"))
    finally:
        con.close()
    rows = {row["kpi"]: row for row in data["headline"]}
    assert list(rows) == [k.id for k in HEADLINE]
    for kpi_id, row in rows.items():
        assert row["value"] == _expected(shown[kpi_id]), kpi_id
    text = " ".join(_pages(monthly)[0].split())
    for kpi in HEADLINE:  # and the PDF prints them in each KPI's row
        label = kpi.label_de.replace(" (12 Monate)", "")
        assert re.search(re.escape(label) + r" " + re.escape(rows[kpi.id]["value"]), text), label


def test_no_count_of_one_or_two_is_shown(demo_home, monthly):
    """Withheld counts read "<3" (the demo has some), and no figure of the report, this
    month or a year earlier, is a 1 or a 2."""
    con = warehouse.connect_readonly(warehouse.current_path(demo_home))
    try:
        data = bericht.figures(con, demo_home, bericht.month("2026-11"))
    finally:
        con.close()
    figures = [row[k] for row in data["headline"] + data["outcomes"] for k in ("value", "previous")]
    assert "<3" in figures
    assert not {"1", "2"} & set(figures)
    assert "<3" in _pages(monthly)[0]


def test_the_balance_of_a_programme_year_and_of_any_span(demo_home, env):
    result = runner.invoke(app, ["bericht", "--jahr", "2026"], env=env)
    assert result.exit_code == 0, result.output
    path = _kept(demo_home, "bilanz-2026-01-01-bis-2026-12-31")
    first = _pages(path)[0]
    assert "Bilanz 01.01.2026 – 31.12.2026" in first
    assert "Zeitraum 01.01.2026 – 30.11.2026" in first  # cut at the as-of date
    assert "Vorläufig" in first  # the year runs on
    assert "Verlauf" not in first  # a trend line belongs to a month's report
    out = demo_home.home / "eigene.pdf"
    args = ["bericht", "--von", "01.03.2026", "--bis", "2026-05-31", "--out", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Bilanz 01.03.2026 – 31.05.2026" in _pages(out)[0]


def test_without_targets_the_report_has_no_target_column(demo_home, env):
    targets = demo_home.home / "ziele.toml"
    kept = targets.read_text(encoding="utf-8")
    targets.unlink()
    try:
        out = demo_home.home / "ohne-ziele.pdf"
        result = runner.invoke(app, ["bericht", "--monat", "2026-11", "--out", str(out)], env=env)
    finally:
        targets.write_text(kept, encoding="utf-8")
    assert result.exit_code == 0, result.output
    first = _pages(out)[0]
    assert "Ziele sind nicht festgelegt (ziele.toml)." in first
    assert "Ziel:" not in first
    assert "Kennzahl Nov 2026 Nov 2025 Verlauf Dez 2025 – Nov 2026" in first  # no "Ziel"


def test_without_a_warehouse_or_data_it_says_so_and_fails(demo_home, env, settings):
    empty = {**env, "KOHORTE_HOME": str(settings.home)}
    result = runner.invoke(app, ["bericht"], env=empty)
    assert result.exit_code == 1 and "kohorte load" in result.output
    for month, message in [
        ("2027-01", "Für „Monatsbericht Januar 2027“ gibt es noch keine Daten"),
        ("2020-01", "niemand nahm in dieser Zeit teil"),
    ]:
        result = runner.invoke(app, ["bericht", "--monat", month], env=env)
        assert result.exit_code == 1 and message in result.output, result.output
    result = runner.invoke(app, ["bericht", "--monat", "2026-11", "--jahr", "2026"], env=env)
    assert result.exit_code == 2


def test_every_page_renders_as_an_image(monthly, tmp_path):
    """pdftoppm (Debian's poppler-utils, `make pdftools`) reads every page: the look at
    them before a release starts from these images."""
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(monthly), str(tmp_path / "seite")], check=True
    )
    images = sorted(tmp_path.glob("seite-*.png"))
    assert len(images) == 3 and all(p.stat().st_size > 2000 for p in images)


def test_the_monthly_flow_makes_mails_and_audits_the_report(
    demo_home, env, receivers, monkeypatch, prefect_server
):
    """A run by hand of the deployment's flow, against a local SMTP server: the PDF is
    kept, mailed as an attachment to KOHORTE_BERICHT_EMAIL_TO, and both are audited."""
    from email import message_from_bytes

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.monatsbericht import monatsbericht
    from kohorte.ops import audit

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KOHORTE_BERICHT_EMAIL_TO", "geschaeftsfuehrung@jobcenter.example")
    with temporary_settings(updates={PREFECT_API_URL: prefect_server.api_url}):
        result = monatsbericht(monat="2026-10")
    assert result["mailed_to"] == ["geschaeftsfuehrung@jobcenter.example"]
    path = Path(result["path"])
    assert path == _kept(demo_home, "monatsbericht-2026-10")
    [mail] = receivers.mails
    assert mail.rcpt_tos == ["geschaeftsfuehrung@jobcenter.example"]
    message = message_from_bytes(mail.content)
    assert message["Subject"] == "Kohorte: Monatsbericht Oktober 2026"
    [attachment] = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert attachment.get_filename() == path.name
    assert attachment.get_payload(decode=True) == path.read_bytes()
    entries = audit.read(demo_home)
    done = entries[entries["details"].str.contains(path.name)]
    assert set(done["aktion"]) == {audit.REPORT, audit.REPORT_MAILED}
    mailed = done[done["aktion"] == audit.REPORT_MAILED].iloc[0]
    assert "geschaeftsfuehrung@jobcenter.example" in mailed["details"]


def test_the_monthly_deployment_runs_on_the_first_at_six_berlin_time():
    from kohorte.ops import schedule

    [entry] = [d for d in schedule.deployments() if d["name"] == "monatsbericht"]
    assert entry["entrypoint"] == "flows/monatsbericht.py:monatsbericht"
    assert entry["schedules"] == [
        {"cron": "0 6 1 * *", "timezone": "Europe/Berlin", "active": True}
    ]


def test_the_berichte_page_lists_makes_and_offers_reports(demo_home, env, monkeypatch, monthly):
    """Team lead and management get the page; a coach or analyst does not. It lists the
    kept reports for download and makes one for a chosen month, audited."""
    from conftest import run_app

    from kohorte.ops import audit
    from kohorte.read.access import Principal

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = run_app(Principal("gf", "leitung"), page="views/berichte.py")
    assert not at.exception and not at.error
    listed = " ".join(m.value for m in at.markdown)
    assert "**Monatsbericht November 2026**  \nDatenstand 30.11.2026 · erstellt" in listed
    assert at.selectbox(key="report_month").value == "2026-11"  # as the flow would report
    at.selectbox(key="report_month").set_value("2026-09")
    next(b for b in at.button if b.label == "Bericht erstellen").click().run()
    assert not at.exception and not at.error
    made_now = _kept(demo_home, "monatsbericht-2026-09")
    entries = audit.read(demo_home)
    made = entries[entries["details"].str.contains(made_now.name)]
    assert list(made["aktion"]) == [audit.REPORT] and list(made["benutzer"]) == ["gf"]
    for role, coach in (("coach", "Coach A"), ("analyse", None)):
        denied = run_app(Principal("x", role, coach), page="views/berichte.py")
        assert "Monatsbericht" not in " ".join(m.value for m in denied.markdown)


def test_a_kept_report_is_never_replaced_by_other_figures(demo_home, env, monthly):
    """Made again from the same version, a report replaces its own file (the same
    figures); from another version it is a file of its own, and the first one stays."""
    from kohorte.ops import reports

    again = reports.make(demo_home, bericht.month("2026-11"))
    assert (
        again.path == monthly and len(list(demo_home.reports.glob("monatsbericht-2026-11_*"))) == 1
    )
    span = bericht.month("2026-11")
    later = span.file_name(dt.date(2026, 12, 1), "20261202T011500123456Z")
    assert later == "monatsbericht-2026-11_stand-2026-12-01_20261202T011500Z.pdf"
    assert later != monthly.name
    assert bericht.read_name(later) == (span, dt.date(2026, 12, 1))
    balance = bericht.Span(dt.date(2026, 1, 1), dt.date(2026, 12, 31), False)
    assert bericht.read_name(balance.file_name(dt.date(2026, 11, 30), "20261201T000000Z")) == (
        balance,
        dt.date(2026, 11, 30),
    )
    assert bericht.read_name("monatsbericht-2026-11.pdf") is None  # put there by hand
    # other bytes under a kept name (targets changed since): kept beside it, the first stays
    name = "monatsbericht-2020-01_stand-2020-01-31_20200201T000000Z.pdf"
    first = bericht.save(demo_home, name, b"%PDF mailed")
    assert bericht.save(demo_home, name, b"%PDF mailed") == first
    second = bericht.save(demo_home, name, b"%PDF other targets")
    assert second.name == "monatsbericht-2020-01_stand-2020-01-31_20200201T000000Z-2.pdf"
    assert first.read_bytes() == b"%PDF mailed" and second.read_bytes() == b"%PDF other targets"
    assert bericht.read_name(second.name) == (bericht.month("2020-01"), dt.date(2020, 1, 31))
    first.unlink(), second.unlink()
    titles = {r["name"]: r["title"] for r in reports.kept(demo_home)}
    assert titles[monthly.name] == "Monatsbericht November 2026"


def test_two_writers_of_one_report_each_rename_a_whole_file(tmp_path):
    """The flow and a click can make the same report at once: a writer's temporary file
    is its own, so one never removes or publishes the other's half-written file."""
    from kohorte.store.files import atomic_write_bytes

    target = tmp_path / "monatsbericht.pdf"
    other = tmp_path / ".monatsbericht.pdf.tmp"  # another writer, halfway (the old name)
    other.write_bytes(b"%PDF half")
    atomic_write_bytes(target, b"%PDF whole", 0o640)
    assert target.read_bytes() == b"%PDF whole" and oct(target.stat().st_mode & 0o777) == "0o640"
    assert other.read_bytes() == b"%PDF half"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, target.name]


def test_recipients_without_a_mail_server_are_said_not_skipped(demo_home, env):
    """KOHORTE_BERICHT_EMAIL_TO without KOHORTE_ALERT_SMTP_HOST: the report is kept, and
    the command says in German that it was not sent, instead of reporting success."""
    mail_env = {**env, "KOHORTE_BERICHT_EMAIL_TO": "gf@jobcenter.example"}
    mail_env.pop("KOHORTE_ALERT_SMTP_HOST", None)
    result = runner.invoke(app, ["bericht", "--monat", "2026-08", "--mail"], env=mail_env)
    assert result.exit_code == 1
    assert "kein Mailserver (KOHORTE_ALERT_SMTP_HOST)" in result.output, result.output
    assert _kept(demo_home, "monatsbericht-2026-08").exists()


def test_the_monthly_run_reports_the_month_before_its_day():
    """On the first of June the run reports May, even when the data end on 29 May (a
    failed night, a weekend): the as-of date would have picked April once more."""
    assert bericht.month_before(dt.date(2026, 6, 1)) == bericht.month("2026-05")
    assert bericht.month_before(dt.date(2027, 1, 1)) == bericht.month("2026-12")
    assert bericht.last_month(dt.date(2026, 5, 29)) == bericht.month("2026-04")  # the CLI's


def test_a_report_is_audited_when_its_bytes_are_fetched(demo_home, env, monkeypatch, monthly):
    """The Berichte page hands its download button a function: the audit entry is written
    when the browser fetches the report, in the name of who drew the page, not on a click
    that a fetch of the file's URL could skip."""
    from dashboard import auth, data
    from kohorte.ops import audit
    from kohorte.read.access import Principal

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(auth, "current", lambda: Principal("gf", "leitung"))
    fetch = data.report_download(monthly)
    before = len(audit.read(demo_home))
    assert fetch() == monthly.read_bytes()
    entries = audit.read(demo_home)
    assert len(entries) == before + 1
    newest = entries.iloc[0]
    assert (newest["benutzer"], newest["aktion"]) == ("gf", audit.REPORT_DOWNLOAD)
    assert monthly.name in newest["details"]
