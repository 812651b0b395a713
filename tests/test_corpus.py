"""The bad-input corpus (``tests/corpus/``): every broken or hostile delivery gets its
verdict, category and message, a report naming file, line, column and reason, and every
good file beside it still loads with exactly its rows.

All cases go into one inbox beside the KPI fixture's good files and load in one real
nightly run (the plain pipeline, as ``kohorte load --plain`` runs it); the tests then check
each file's outcome, the quarantine and the published warehouse.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, KPI_LOAD_DATE, deliver, make_settings
from corpus.cases import CASES, Case, render_markdown

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.define.contract import ERROR_CATEGORIES, kind_for_file
from kohorte.define.privacy import pseudonym
from kohorte.intake.report import FileResult
from kohorte.run import pipeline

GOOD_FILES = sorted((FIXTURES / "kpi").glob("*.csv"))
ROOT = Path(__file__).resolve().parent.parent
CHECKS = ROOT / "sql" / "checks"
# the kinds of bad input the issue lists, and the cases that stand for each
ISSUE_KINDS = {
    "encodings": ("k01", "k02", "k03", "k04"),
    "BOMs": ("k05", "k06"),
    "delimiters": ("k10", "k11", "k12"),
    "quoting": ("k15", "k16", "k17"),
    "truncated files": ("k14", "k15", "k53"),
    "duplicate headers": ("k25",),
    "dates like 31.02.": ("k40",),
    "two-digit years": ("k41",),
    "future dates": ("k43",),
    "negative or absurd hours": ("k28", "k29"),
    "unknown codes": ("k37", "k38", "k39"),
    "attendance for unknown participants": ("k49",),
    "outcomes before entry": ("k50",),
    "XLSX with formulas or macros": ("k56", "k57"),
    "zip bomb disguised as XLSX": ("k59",),
    "2 GB file": ("k60",),
    "names with control characters or HTML": ("k33", "k34"),
    # the intake issue: security and privacy, data loss, real exports, corrections
    "a link in the inbox": ("k62", "k63", "k84"),
    "no header line (customer numbers in messages)": ("k64", "k65"),
    "a file still being written": ("k66", "k67"),
    "a name the system cannot store": ("k68", "k69"),
    "a subfolder": ("k70",),
    "sep=; hint": ("k71",),
    "Unicode-Text (UTF-16)": ("k01", "k72", "k86"),
    "XLSX title rows, hidden sheets, merged cells": ("k73", "k74", "k75"),
    "open-end dates": ("k76",),
    "numbers 3 and ,5": ("k77",),
    "padded customer numbers": ("k78",),
    "invisible characters in names": ("k79",),
    "apostrophe before a customer number": ("k80",),
    "password-protected workbook": ("k81",),
    "a customer number in a text column": ("k82",),
    "retraction (storno)": ("k83", "k85"),
}


@dataclass
class CorpusRun:
    """What one nightly run over the whole corpus produced."""

    settings: Settings
    run: dict
    results: dict[str, FileResult]
    raw_rows: dict[str, int]  # delivery_id -> rows in the published raw layer
    seconds: float

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Rows of a query against the published warehouse."""
        con = warehouse.connect_readonly(warehouse.current_path(self.settings))
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """Every corpus case plus the good files in one inbox, loaded by one nightly run."""
    settings = make_settings(tmp_path_factory.mktemp("corpus") / "home")
    started = time.perf_counter()
    deliver(settings, *GOOD_FILES)
    for case in CASES:
        case.write(settings.inbox)
    run, results = pipeline.run_once(settings, KPI_LOAD_DATE)
    seconds = time.perf_counter() - started
    kinds = sorted({r.kind for r in results if r.status in ("loaded", "partial")})
    union = " union all ".join(
        f"select delivery_id, count(*) from raw.{kind} group by 1" for kind in kinds
    )
    corpus_run = CorpusRun(settings, run, {r.file_name: r for r in results}, {}, seconds)
    corpus_run.raw_rows = dict(corpus_run.query(union))
    return corpus_run


def test_the_corpus_is_big_and_covers_the_issue():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 40
    assert len({case.file for case in CASES}) == len(CASES)
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.category for case in CASES} - {None} == set(ERROR_CATEGORIES)
    assert len(CASES) >= 61 + 20  # the 20 kinds of delivery the intake issue found
    for kind, cases in ISSUE_KINDS.items():
        assert set(cases) <= set(ids), kind
    for case in CASES:  # every committed file is a case, every case has its file
        assert case.build is not None or (Path(__file__).parent / "corpus" / "files" / case.file)
    committed = {p.name for p in (Path(__file__).parent / "corpus" / "files").glob("*.*")}
    committed.discard(".gitattributes")
    assert committed == {case.file for case in CASES if case.build is None}


def test_the_run_publishes_and_only_what_is_not_taken_stays_in_the_inbox(corpus):
    assert corpus.run["status"] == "published"
    staying = {c.file for c in CASES if c.status in ("left", "ignored")}
    assert {p.name for p in corpus.settings.inbox.iterdir()} == staying
    reported = {c.name for c in CASES if c.status != "left"}
    assert set(corpus.results) == reported | {f.name for f in GOOD_FILES}
    assert corpus.seconds < 60


def test_a_link_is_never_followed_nor_changed_through(corpus):
    """k62: the link's target is outside the inbox; its content reaches no output and its
    permissions stay as they were."""
    target = corpus.settings.home.parent / "passwd"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    outputs = [p for p in corpus.settings.home.rglob("*") if p.is_file() and not p.is_symlink()]
    assert not [p for p in outputs if b"root:x:0:0" in _written_bytes(p)]


def _written_bytes(path: Path) -> bytes:
    """A file's content without its holes: the quarantined 2 GB case (k60) is sparse, and
    reading its 2 GiB of nothing cost this test 12 s. Every byte that was written is read."""
    chunks = []
    with path.open("rb") as file:
        fd, end, offset = file.fileno(), os.fstat(file.fileno()).st_size, 0
        while offset < end:
            try:
                offset = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # only a hole is left (ENXIO)
                break
            hole = os.lseek(fd, offset, os.SEEK_HOLE)
            chunks.append(os.pread(fd, hole - offset, offset))
            offset = hole
    return b"".join(chunks)


def test_messages_are_german_and_quote_no_customer_number(corpus):
    """DuckDB's English details are translated or left out; no message outside the
    quarantine quotes a customer number (the file log is what pages and warehouse read)."""
    english = re.compile(r"Expected|Found|unterminated|exceeded|Actual Size", re.I)
    for result in corpus.results.values():
        texts = [result.message, *(e.reason for e in result.errors)]
        assert not [t for t in texts if english.search(t)], result.file_name
    logged = (corpus.settings.state / "files").glob("*.json")
    numbers = re.compile(r"(?<![0-9A-Za-z])[0-9]{3}[A-Za-z][0-9]{6}(?![0-9A-Za-z])")
    assert not [p.name for p in logged if numbers.search(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("good", GOOD_FILES, ids=lambda p: p.name)
def test_every_good_file_beside_the_corpus_loads_exactly(corpus, good):
    result = corpus.results[good.name]
    rows = len(good.read_text(encoding="utf-8").splitlines()) - 1
    assert (result.status, result.category, result.errors) == ("loaded", None, [])
    assert (result.rows_accepted, result.rows_rejected) == (rows, 0)
    assert corpus.raw_rows[result.delivery_id] == rows


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}-{c.file.split('_', 2)[-1]}")
def test_case(corpus, case: Case):
    if case.status == "left":  # never taken, never reported: still where it was
        assert (corpus.settings.inbox / case.file).exists()
        assert case.name not in corpus.results
        return
    result = corpus.results[case.name]
    assert result.status == case.status, result.message
    if case.status == "ignored":
        assert case.message in result.message and (corpus.settings.inbox / case.file).exists()
        return
    if case.category == "reference":
        _assert_reference(corpus, case, result)
    else:
        assert result.category == case.category, result.errors
    if case.status == "duplicate":
        assert case.message in result.message
        original = next(r for r in corpus.results.values() if r.sha256 == result.sha256)
        assert result.delivery_id == original.delivery_id != result.file_name
        assert (result.rows_accepted, result.rows_rejected) == (0, 0)
        return
    # nothing dropped, nothing counted twice: accepted rows are exactly in the raw layer
    assert (result.rows_accepted, result.rows_rejected) == case.rows
    assert corpus.raw_rows.get(result.delivery_id, 0) == case.rows[0]
    if case.status == "loaded":
        assert result.errors == []
        assert (result.report is None) == (not result.notes)  # notes come with a report
    else:
        _assert_error_and_report(corpus, case, result)
    if case.stored:
        column, value = case.stored
        kind = kind_for_file(case.file).name
        stored = corpus.query(
            f'select "{column}" from raw.{kind} where delivery_id = $d', {"d": result.delivery_id}
        )
        assert (value,) in stored


def _assert_error_and_report(corpus: CorpusRun, case: Case, result: FileResult) -> None:
    if case.line is None:  # a whole-file verdict
        assert case.message in result.message
        [error] = result.errors
    else:
        matching = [e for e in result.errors if e.line == case.line]
        assert matching, result.errors
        error = matching[0]
        assert case.message in error.reason
        if case.column:
            assert error.column == case.column
    assert error.category == case.category
    assert result.category == case.category
    assert case.category in ERROR_CATEGORIES
    # the report names file, line, column, reason and category; the original is kept
    quarantine = corpus.settings.quarantine
    text = (quarantine / result.report).read_text(encoding="utf-8")
    assert f"Datei:      {case.name}" in text
    assert f"Kategorie:  {ERROR_CATEGORIES[case.category][0]} ({case.category})" in text
    where = "-" if error.line is None else str(error.line)
    row = rf"^{where}\s+{re.escape(error.column or '-')}\s+{re.escape(error.reason)}.*\[.*\]$"
    assert re.search(row, text, re.M), text
    report = json.loads((quarantine / result.report.replace(".txt", ".json")).read_text())
    assert (report["file_name"], report["category"]) == (case.name, case.category)
    assert (quarantine / f"{result.delivery_id}__{case.name}").exists() == case.kept


def _assert_reference(corpus: CorpusRun, case: Case, result: FileResult) -> None:
    """A row that fits no participation is kept (its participant may be delivered later),
    warned about where a data check exists, and never counted in the KPIs."""
    assert result.category is None and result.errors == []
    if case.message:  # the warning comes from the named data check
        check = (CHECKS / f"{case.message}.sql").read_text(encoding="utf-8")
        assert "-- severity: warn" in check
        flagged = corpus.query(f"select delivery_id, line from ({check})")
        assert (result.delivery_id, case.line) in flagged
        [logged] = corpus.query(
            "select passed from meta.checks where name = $n", {"n": case.message}
        )
        assert logged == (False,)
    else:  # an outcome before entry: stored, but outside every participation window
        pid = pseudonym(corpus.settings.pseudonym_key(), "012D000004")
        [(eintritt, integration)] = corpus.query(
            "select eintritt, erste_integration_datum from marts.teilnahmen where pid = $p",
            {"p": pid},
        )
        [(datum,)] = corpus.query(
            "select datum from raw.ergebnisse where delivery_id = $d", {"d": result.delivery_id}
        )
        assert datum < eintritt and integration is None


def test_totals_add_up(corpus):
    """The run's own totals agree with the files and the raw layer: nothing lost or doubled."""
    fresh = [r for r in corpus.results.values() if r.status != "duplicate"]
    assert corpus.run["rows_accepted"] == sum(r.rows_accepted for r in fresh)
    assert corpus.run["rows_accepted"] == sum(corpus.raw_rows.values())
    assert corpus.run["rows_rejected"] == sum(r.rows_rejected for r in fresh)
    expected = {s: sum(c.status == s for c in CASES) for s in ("partial", "quarantined")}
    assert corpus.run["files_partial"] == expected["partial"]
    assert corpus.run["files_quarantined"] == expected["quarantined"]
    noted = sum(r.status == "loaded" and bool(r.notes) for r in corpus.results.values())
    reports = list(corpus.settings.quarantine.glob("*.report.txt"))
    assert len(reports) == expected["partial"] + expected["quarantined"] + noted


def test_reliability_doc_lists_every_case():
    """docs/reliability.md shows the corpus as this manifest defines it."""
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    block = doc.split("<!-- corpus:start -->")[1].split("<!-- corpus:end -->")[0]
    assert render_markdown() in block
    assert f"{len(CASES)} cases" in block


def test_the_quarantine_is_the_service_accounts_alone(corpus):
    """It holds originals with customer numbers in clear: 0700, every file in it 0600."""
    quarantine = corpus.settings.quarantine
    assert oct(quarantine.stat().st_mode & 0o777) == "0o700"
    kept = list(quarantine.iterdir())
    assert len(kept) > 60
    assert {oct(p.lstat().st_mode & 0o777) for p in kept} == {"0o600"}
    assert not [p for p in kept if p.is_symlink() or not p.is_file()]
