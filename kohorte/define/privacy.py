"""Pseudonymisation: kundennummer never leaves ingest in clear; and the mask for anything
that could quote one."""

from __future__ import annotations

import hashlib
import hmac
import re

from kohorte.define.contract import KUNDENNUMMER_PATTERN

PSEUDONYM_LENGTH = 16  # hex characters = 64 bits: no collision in any realistic programme
# the contract's pattern anywhere in a text (case-insensitive: 143d000001 is one too),
# not inside a longer word or number
# the rule, once: the contract's number, not inside a longer word or number; the same
# for Python (masking) and for DuckDB's RE2 (rejecting a name that holds one), which has
# no look-behind
_CORE = KUNDENNUMMER_PATTERN.strip("^$").replace("[A-Z]", "[A-Za-z]")
KUNDENNUMMER_ANYWHERE = re.compile(rf"(?<![0-9A-Za-z]){_CORE}(?![0-9A-Za-z])")
KUNDENNUMMER_IN_TEXT_SQL = f"(^|[^0-9A-Za-z]){_CORE}([^0-9A-Za-z]|$)"
MASK = "[Kundennummer]"


def pseudonym(key: bytes, kundennummer: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised kundennummer, shortened to 16 hex digits."""
    digest = hmac.new(key, kundennummer.strip().upper().encode(), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


def pseudonyms(key: bytes, values: list[str]) -> dict[str, str]:
    """Pseudonyms for many values at once (distinct values only; callers join)."""
    return {value: pseudonym(key, value) for value in values}


def mask(text: str) -> str:
    """``text`` with every value that could be a customer number replaced by a marker:
    for messages, logs and reports outside the quarantine."""
    return KUNDENNUMMER_ANYWHERE.sub(MASK, text)
