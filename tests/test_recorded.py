"""The intake gives, for the corpus inbox, exactly the recorded results.

``tests/corpus/recorded.json`` is the reviewed behaviour: every file's verdict and report,
the manifest, the rows stored and the quarantine. A change of the intake that changes any
of them fails here until the recording is renewed deliberately
(``python tests/corpus/recorded.py``), with the diff in the same commit.
"""

from __future__ import annotations

import json

from corpus.recorded import RECORDED, ingest_corpus_inbox, snapshot


def test_the_intake_gives_the_recorded_results(tmp_path) -> None:
    settings, results = ingest_corpus_inbox(tmp_path / "home")
    now = snapshot(settings, results)
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert sum(r["rows"] for r in now["stored"].values()) > 1000  # not vacuous
    assert {f["status"] for f in now["files"].values()} >= {"loaded", "partial", "quarantined"}
    for part in ("files", "manifest", "stored", "reports", "quarantine"):
        assert now[part] == recorded[part], part
