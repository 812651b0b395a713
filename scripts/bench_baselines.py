"""The two baselines ``scripts/bench.py`` runs beside the nightly load, each in its own
process (so that its peak memory is its own):

    python scripts/bench_baselines.py duckdb  MANIFEST.json   # bare read_csv into a table
    python scripts/bench_baselines.py pandas  MANIFEST.json   # what an analyst would write

The manifest lists the CSV files of one scale with their kind and encoding. Both read
only the CSV files (the few weekly XLSX files are the pipeline's alone); each prints one
line of JSON: seconds and rows.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: import the project's own packages

import duckdb
import pandas as pd

from kohorte.define.contract import KINDS, Kind

PANDAS_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "windows-1252": "cp1252"}


def _by_kind(manifest: dict) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for entry in manifest["files"]:
        if entry["format"] == "csv":
            groups.setdefault(entry["kind"], []).append(entry)
    return groups


def _types(kind: Kind) -> dict[str, str]:
    """Contract types; yes/no codes stay text (read_csv knows no ja/nein)."""
    return {c.name: "VARCHAR" if c.type == "yesno" else c.sql_type for c in kind.columns}


def _utf8(path: str, tmp: Path) -> str:
    """A Windows-1252 file as UTF-8: DuckDB 2.0 here has no encodings extension (and
    rejects such files as latin-1), so any DuckDB reader must transcode them first."""
    target = tmp / Path(path).name
    with (
        open(path, encoding="windows-1252", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 22):
            dst.write(chunk)
    return str(target)


def bare_duckdb(manifest: dict) -> int:
    """Every CSV file into a typed table of a file database: DuckDB's practical limit
    (Windows-1252 files transcoded to UTF-8 on the way, which the clock includes)."""
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bare.duckdb"))
        for kind_name, entries in _by_kind(manifest).items():
            kind = KINDS[kind_name]
            files = [
                e["path"] if e["encoding"] != "windows-1252" else _utf8(e["path"], Path(tmp))
                for e in entries
            ]
            if files:
                select = (
                    "select * from read_csv($files, delim=';', header=true, "
                    "dateformat='%d.%m.%Y', decimal_separator=',', quote='\"', "
                    "encoding='utf-8', columns=$types, union_by_name=true)"
                )
                with open(files[0], encoding="utf-8-sig") as handle:  # the columns delivered
                    header = set(handle.readline().strip().lower().split(";"))
                types = {k: v for k, v in _types(kind).items() if k in header}
                params = {"files": files, "types": types}
                con.execute(f"create table {kind_name} as {select}", params)
            # table names are the contract's own kind names, never input
            rows += con.execute(f"select count(*) from {kind_name}").fetchone()[0]  # noqa: S608
        con.execute("checkpoint")
        con.close()
    return rows


def _valid(frame: pd.DataFrame, kind: Kind) -> pd.Series:
    """The contract's row checks, written the way an analyst would in pandas."""
    ok = pd.Series(True, index=frame.index)
    for column in kind.columns:
        if column.name not in frame:
            continue
        values = frame[column.name].str.strip()
        present = values.notna() & (values != "")
        if column.required:
            ok &= present
        if column.codes:
            ok &= ~present | values.isin(column.codes)
        if column.type == "date":
            parsed = pd.to_datetime(values, format="%d.%m.%Y", errors="coerce")
            ok &= ~present | parsed.notna()
            frame[column.name] = parsed
        elif column.type in ("decimal", "integer"):
            number = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")
            ok &= ~present | number.notna()
            if column.minimum is not None:
                ok &= ~present | (number >= column.minimum)
            if column.maximum is not None:
                ok &= ~present | (number <= column.maximum)
            frame[column.name] = number
        elif column.type == "id":
            ok &= values.str.fullmatch(r"\d{3}[A-Z]\d{6}").fillna(False).astype(bool)
    return ok


def pandas_pipeline(manifest: dict) -> int:
    """Read, validate, deduplicate on the contract's keys (latest delivery wins), and build
    participations with their attendance counts."""
    tables: dict[str, pd.DataFrame] = {}
    rows = 0
    for kind_name, entries in _by_kind(manifest).items():
        kind = KINDS[kind_name]
        frames = [
            pd.read_csv(e["path"], sep=";", dtype=str, encoding=PANDAS_ENCODING[e["encoding"]])
            for e in entries
        ]
        frame = pd.concat(frames, ignore_index=True)
        rows += len(frame)
        frame = frame[_valid(frame, kind)]
        tables[kind_name] = frame.drop_duplicates(list(kind.key), keep="last")
    attendance = (
        tables["anwesenheit"]
        .pivot_table(index="kundennummer", columns="status", values="datum", aggfunc="count")
        .fillna(0)
        .reset_index()
    )
    participations = tables["teilnehmende"].merge(attendance, on="kundennummer", how="left")
    participations.groupby(["standort", participations["eintritt"].dt.to_period("M")]).size()
    return rows


def main(argv: list[str]) -> int:
    which, manifest_path = argv
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    started = time.perf_counter()
    rows = {"duckdb": bare_duckdb, "pandas": pandas_pipeline}[which](manifest)
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
