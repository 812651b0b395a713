"""The fourth stage: every row checked against the contract, by SQL generated from it.

``validate`` turns the staged text table into ``checked``: typed values, and ``_errors``
(NULL for a good row) naming column, reason and category. All heavy lifting happens in
DuckDB, so a multi-million-row delivery is never held in a DataFrame.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from kohorte.define.contract import (
    DATE_PATTERN,
    EARLIEST_DATE,
    FORMULA_START,
    KUNDENNUMMER_PATTERN,
    Column,
    Kind,
)
from kohorte.define.privacy import KUNDENNUMMER_IN_TEXT_SQL
from kohorte.store.db import ident, literal, scalar

# 3, 3,5, ,5 and 1.240,50 (thousands dots); a decimal point is refused (3.5 is ambiguous)
NUMBER_PATTERN = r"^-?((([0-9]{1,3}(\.[0-9]{3})+)|[0-9]+)(,[0-9]+)?|,[0-9]+)$"
INTEGER_PATTERN = r"^-?[0-9]+$"
ERROR_TYPE = 'struct("column" varchar, reason varchar, value varchar, category varchar)'
CONTROL_CHARS = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]"
# trimmed from every value: spaces, tabs, line ends, non-breaking and zero-width spaces, BOM
TRIMMED = " \t\r\n\u00a0\u2007\u202f\u200b\ufeff"
INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff]"  # removed from names
SPACES = "[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+"  # one space in names
APOSTROPHE = "'"


def _cleaned(col: Column, present: set[str]) -> str:
    """SQL for a column's text as checked: trimmed of spaces, tabs and invisible characters
    (non-breaking and zero-width spaces, byte-order marks); names also Unicode NFC with
    inner spaces collapsed, so one coach stays one coach; an open-end date is empty; an
    empty cell takes the contract's default, as a missing column does."""
    if col.name not in present:
        return "null::varchar" if col.default is None else literal(col.default)
    value = ident(col.name)
    if col.type == "text":  # a control character is reported as it came (NFC stops at NUL)
        visible = f"regexp_replace({value}, {literal(INVISIBLE)}, '', 'g')"
        value = (
            f"case when regexp_matches({value}, {literal(CONTROL_CHARS)}) then {value} else "
            f"regexp_replace(nfc_normalize({visible}), {literal(SPACES)}, ' ', 'g') end"
        )
    if col.type == "text":
        value = f"nullif(trim({value}, {literal(TRIMMED)}), '')"
    else:
        value = f"nullif({_trimmed(value)}, '')"
    if col.open_end:
        ends = ", ".join(literal(v) for v in col.open_end)
        value = f"case when {value} in ({ends}) then null else {value} end"
    if col.default is not None:
        value = f"coalesce({value}, {literal(col.default)})"
    return value


def _trimmed(ref: str) -> str:
    """``trim(ref, TRIMMED)``, called only where the first or last character is one to trim:
    a trim over a set of Unicode characters costs ~250 ns a value (a third of the checks
    of an attendance file), and almost every delivered value has nothing to trim."""
    edges = literal(TRIMMED)
    return (
        f"case when contains({edges}, {ref}[1]) or contains({edges}, {ref}[-1]) "
        f"then trim({ref}, {edges}) else {ref} end"
    )


def open_end_notes(
    con: duckdb.DuckDBPyConnection, kind: Kind, present: set[str]
) -> dict[int, list[str]]:
    """Per file (``_file``): how many open-end dates were read as "no date"."""
    notes: dict[int, list[str]] = {}
    for col in kind.columns:
        if not col.open_end or col.name not in present:
            continue
        values = ", ".join(literal(v) for v in col.open_end)
        for index, count in con.execute(
            f"select _file, count(*) from staged where trim({ident(col.name)}, "
            f"{literal(TRIMMED)}) in ({values}) group by 1"
        ).fetchall():
            notes.setdefault(index, []).append(
                f"{count} Zeile(n): {col.name} {' bzw. '.join(col.open_end)} (offenes Ende aus "
                f"SAP/VerBIS) als leer gelesen, also ohne {col.name}."
            )
    return notes


def _shown(col: Column) -> str:
    """The offending value for the report; kundennummer never appears in clear."""
    if col.type == "id":
        return "null::varchar"
    return f"left({ident('v_' + col.name)}, 60)"


def _error_case(col: Column, as_of: dt.date) -> str:
    """SQL for a column's first error as ``{'reason': ..., 'category': ...}``, else NULL."""
    ref = ident(f"v_{col.name}")
    kind = {"date": "date", "code": "code", "yesno": "code"}.get(col.type, "value")
    whens: list[tuple[str, str | None, str]] = []  # condition, reason (None: fine), category
    if col.required:
        whens.append((f"{ref} is null", "Pflichtwert fehlt", "value"))
    else:
        whens.append((f"{ref} is null", None, "value"))
    if col.type == "id":
        whens.append(
            (
                f"left({ref}, 1) = {literal(APOSTROPHE)}",
                "Apostroph vor der Kundennummer (Excels Textkennzeichen): bitte ohne "
                "Apostroph liefern",
                kind,
            )
        )
        whens.append(
            (
                f"not regexp_full_match(upper({ref}), {literal(KUNDENNUMMER_PATTERN)})",
                "ungültige Kundennummer (erwartet 3 Ziffern, 1 Buchstabe, 6 Ziffern; als Zahl "
                "formatiert?)",
                kind,
            )
        )
    elif col.type == "date":
        parsed = f"try_strptime({ref}, '%d.%m.%Y')"
        whens += [
            (
                f"not regexp_full_match({ref}, {literal(DATE_PATTERN)})",
                "kein Datum im Format TT.MM.JJJJ",
                kind,
            ),
            (f"{parsed} is null", "ungültiges Datum (gibt es nicht im Kalender)", kind),
            (
                f"{parsed}::date < date {literal(EARLIEST_DATE)}",
                f"Datum vor {EARLIEST_DATE[:4]}",
                kind,
            ),
        ]
        if col.not_after_as_of:
            whens.append(
                (
                    f"{parsed}::date > date {literal(as_of.isoformat())}",
                    "Datum liegt in der Zukunft",
                    kind,
                )
            )
    elif col.type in ("code", "yesno"):
        whens.append(
            (
                f"lower({ref}) not in ({', '.join(literal(c) for c in col.codes)})",
                f"unbekannter Wert; erlaubt: {', '.join(col.codes)}",
                kind,
            )
        )
    elif col.type in ("decimal", "integer"):
        pattern = NUMBER_PATTERN if col.type == "decimal" else INTEGER_PATTERN
        label = (
            "keine Zahl (Dezimalkomma erwartet)" if col.type == "decimal" else "keine ganze Zahl"
        )
        whens.append((f"not regexp_full_match({ref}, {literal(pattern)})", label, kind))
        number = _parsed(col, ref)
        if col.minimum is not None:
            whens.append(
                (f"{number} < {col.minimum}", f"Wert zu klein (min. {col.minimum:g})", kind)
            )
        if col.maximum is not None:
            whens.append(
                (f"{number} > {col.maximum}", f"Wert zu groß (max. {col.maximum:g})", kind)
            )
    elif col.type == "merkmal":
        whens.append(
            (
                f"not (lower({ref}) in ('ja', 'nein') or regexp_full_match({ref}, "
                f"{literal(NUMBER_PATTERN)}))",
                "weder eine Zahl (Dezimalkomma) noch ja/nein",
                kind,
            )
        )
    elif col.type == "text":
        starts = ", ".join(literal(c) for c in FORMULA_START)
        whens += [
            (f"regexp_matches({ref}, {literal(CONTROL_CHARS)})", "enthält Steuerzeichen", kind),
            (
                f"length({ref}) > {col.max_length}",
                f"Text länger als {col.max_length} Zeichen",
                kind,
            ),
            (
                f"left({ref}, 1) in ({starts})",
                f"beginnt wie eine Formel ({' '.join(FORMULA_START)}); nicht übernommen",
                "security",
            ),
            (
                f"regexp_matches({ref}, {literal(KUNDENNUMMER_IN_TEXT_SQL)})",
                "enthält eine Kundennummer; aus Datenschutzgründen nicht übernommen",
                "security",
            ),
        ]
    body = " ".join(
        f"when {cond} then "
        + (
            "null"
            if reason is None
            else f"{{'reason': {literal(reason)}, 'category': {literal(cat)}}}"
        )
        for cond, reason, cat in whens
    )
    return f"case {body} end"


def _parsed(col: Column, ref: str) -> str:
    """SQL for the typed value of a text column (only meaningful where it passed its checks)."""
    if col.type == "id":
        return f"upper({ref})"
    if col.type == "date":
        return f"try_strptime({ref}, '%d.%m.%Y')::date"
    if col.type in ("code",):
        return f"lower({ref})"
    if col.type == "yesno":
        return f"(lower({ref}) = 'ja')"
    if col.type == "decimal":
        return f"try_cast(replace(replace({ref}, '.', ''), ',', '.') as decimal(9, 2))"
    if col.type == "integer":
        return f"try_cast({ref} as integer)"
    if col.type == "merkmal":
        number = f"try_cast(replace(replace({ref}, '.', ''), ',', '.') as double)"
        return f"case lower({ref}) when 'ja' then 1.0 when 'nein' then 0.0 else {number} end"
    return ref


def validate(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    present: set[str],
    as_of: dt.date,
    carry: tuple[str, ...] = (),
) -> None:
    """Create temp table ``checked`` from ``staged``: typed values, and ``_errors`` (NULL for
    a good row). ``carry``: columns passed through unchanged that also scope the key check
    (``_file`` when many files are checked at once: a key may repeat across files)."""
    # a retraction (storno = ja) needs its key only; whatever else its row holds is
    # neither checked nor stored. ``storno`` is its value in scope: the delivered column
    # while cleaning, ``v_storno`` once cleaned

    def unless_retracted(col: Column, sql: str, storno: str) -> str:
        if col.name in kind.key or col.name == "storno":
            return sql
        return f"case when lower({storno}) = 'ja' then null else {sql} end"

    columns = kind.columns_for(present)
    delivered = _cleaned(kind.column("storno"), present)
    cleaned = ", ".join(
        f"{unless_retracted(c, _cleaned(c, present), delivered)} as {ident('v_' + c.name)}"
        for c in columns
    )
    reasons = ", ".join(
        f"{unless_retracted(c, _error_case(c, as_of), 'v_storno')} as {ident('e_' + c.name)}"
        for c in columns
    )
    errors = ", ".join(
        f"{{'column': {literal(c.name)}, 'reason': {ident('e_' + c.name)}.reason, "
        f"'value': {_shown(c)}, 'category': {ident('e_' + c.name)}.category}}"
        for c in columns
    )
    any_error = " or ".join(f"{ident('e_' + c.name)} is not null" for c in columns)
    parsed = ", ".join(f"{_parsed(c, ident('v_' + c.name))} as {ident(c.name)}" for c in columns)
    rules = ", ".join(
        f"{{'column': {literal(r.column)}, 'reason': case when {r.when} and not storno "
        f"then {literal(r.reason)} end, "
        f"'value': null::varchar, 'category': 'rule'}}"
        for r in kind.rules
    )
    rule_list = f"[{rules}]" if rules else "[]"
    key = ", ".join(ident(k) for k in (*carry, *kind.key))
    passed = "".join(f"{ident(c)}, " for c in carry)
    # Error lists exist only for rows that have an error (NULL otherwise): a clean row
    # costs a few comparisons, which keeps multi-million-row deliveries fast.
    rule_errors = f"list_filter({rule_list}::{ERROR_TYPE}[], lambda e: e.reason is not null)"
    con.execute(
        f"""
        create or replace temp table checked as
        with cleaned as (select _line, {passed}{cleaned} from staged),
        flagged as (select *, {reasons} from cleaned),
        typed as (
            select _line, {passed}{parsed},
                case when {any_error}
                    then list_filter([{errors}], lambda e: e.reason is not null)
                end as _column_errors
            from flagged
        )
        select * exclude (_column_errors),
            coalesce(_column_errors, nullif({rule_errors}, [])) as _errors
        from typed
        """
    )
    # a key may appear once per file; later repeats are rejected, naming the first
    con.execute(
        f"""
        create or replace temp table repeated as
        select {key}, min(_line) as _first
        from checked
        where _errors is null
        group by {key}
        having count(*) > 1
        """
    )
    if scalar(con, "select count(*) from repeated"):
        matches = " and ".join(f"c.{ident(k)} = r.{ident(k)}" for k in (*carry, *kind.key))
        con.execute(
            f"""
            update checked as c set _errors = [{{
                'column': {literal(kind.key[0])},
                'reason': 'Schlüssel ({", ".join(kind.key)}) doppelt in dieser Datei',
                'value': 'erstmals in Zeile ' || r._first,
                'category': 'key'}}]
            from repeated as r
            where {matches} and c._line > r._first and c._errors is null
            """
        )
