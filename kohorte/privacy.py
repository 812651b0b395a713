"""Pseudonymisation: kundennummer never leaves ingest in clear."""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_LENGTH = 16  # hex characters = 64 bits: no collision in any realistic programme


def pseudonym(key: bytes, kundennummer: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised kundennummer, shortened to 16 hex digits."""
    digest = hmac.new(key, kundennummer.strip().upper().encode(), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


def pseudonyms(key: bytes, values: list[str]) -> dict[str, str]:
    """Pseudonyms for many values at once (distinct values only; callers join)."""
    return {value: pseudonym(key, value) for value in values}
