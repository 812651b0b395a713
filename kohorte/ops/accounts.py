"""Local accounts, the embedded default for signing in: argon2 hashes, lockout.

Accounts live in ``secrets/users.json`` (0600, beside the pseudonym key, never in the
repository or the warehouse). Passwords are hashed with argon2id (argon2-cffi, the
reference implementation's bindings) and never stored or logged in clear. After
``lockout_attempts`` failures in a row an account is locked for ``lockout_minutes``.
Production installations sign in through OpenID Connect instead (``KOHORTE_AUTH=oidc``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kohorte.config import Settings
from kohorte.read import fmt
from kohorte.read.access import ROLES, Principal

HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 parameters
MIN_PASSWORD = 10


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs as long as a wrong
    password; made on first use, not on import (a hash costs a tenth of a second)."""
    return HASHER.hash(secrets.token_hex(16))


class SignInFailed(Exception):
    """Wrong name or password (the message never says which)."""


class Locked(SignInFailed):
    """Too many failed attempts; the account is locked for a while."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"gesperrt bis {fmt.datetime(until)} Uhr")  # Berlin time
        self.until = until


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    coach: str | None
    created: str
    failures: int
    locked_until: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def _store(settings: Settings) -> Iterator[dict]:
    """The accounts, locked against concurrent changes and written back atomically."""
    path = settings.users_file
    settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        users = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        before = json.dumps(users, sort_keys=True)
        yield users
        if json.dumps(users, sort_keys=True) != before:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(users, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"Das Passwort braucht mindestens {MIN_PASSWORD} Zeichen")


def add_user(
    settings: Settings, name: str, role: str, password: str, coach: str | None = None
) -> Account:
    """Create an account; the name must be new."""
    if role not in ROLES:
        raise ValueError(f"Unbekannte Rolle {role!r}; erlaubt: {', '.join(ROLES)}")
    Principal(name, role, coach)  # a coach needs a caseload
    _check_password(password)
    with _store(settings) as users:
        if name in users:
            raise ValueError(f"Das Konto {name!r} gibt es schon")
        users[name] = {
            "role": role,
            "coach": coach,
            "hash": HASHER.hash(password),
            "created": _now().isoformat(timespec="seconds"),
            "failures": 0,
            "locked_until": None,
        }
    return get_user(settings, name)


def unknown_coach(settings: Settings, coach: str) -> str | None:
    """Why ``coach`` is no caseload name of the published deliveries, with the nearest
    names (a typo would give a coach an empty caseload); None when it is one, or when no
    warehouse is published yet to check against."""
    import difflib

    from kohorte.build import warehouse
    from kohorte.read import queries

    path = warehouse.current_path(settings)
    if path is None:
        return None
    con = warehouse.connect_readonly(path)
    try:
        known = list(queries.run(con, "filter__optionen").iloc[0]["coaches"])
    finally:
        con.close()
    if coach in known:
        return None
    near = difflib.get_close_matches(coach, known, n=3, cutoff=0.6)
    hint = f" Meinten Sie: {', '.join(near)}?" if near else ""
    return (
        f"Die Coach-Angabe {coach!r} kommt in den Lieferungen nicht vor.{hint} Eine neue "
        "Coachin ohne Teilnehmende bisher: mit --new-coach anlegen."
    )


def get_user(settings: Settings, name: str) -> Account:
    with _store(settings) as users:
        if name not in users:
            raise KeyError(name)
        record = users[name]
    return Account(
        name,
        record["role"],
        record.get("coach"),
        record["created"],
        record.get("failures", 0),
        record.get("locked_until"),
    )


def list_users(settings: Settings) -> list[Account]:
    with _store(settings) as users:
        names = sorted(users)
    return [get_user(settings, name) for name in names]


def remove_user(settings: Settings, name: str) -> None:
    with _store(settings) as users:
        if users.pop(name, None) is None:
            raise KeyError(name)


def set_password(settings: Settings, name: str, password: str) -> None:
    """A new password; also lifts a lockout."""
    _check_password(password)
    with _store(settings) as users:
        if name not in users:
            raise KeyError(name)
        users[name].update(hash=HASHER.hash(password), failures=0, locked_until=None)


def verify(settings: Settings, name: str, password: str) -> Principal:
    """The principal for a correct name and password; SignInFailed (or Locked) otherwise."""
    failure: SignInFailed | None = None
    with _store(settings) as users:  # decided inside, raised after: the count is saved
        record = users.get(name)
        if record is None:
            _verify_hash(_dummy_hash(), password)
            failure = SignInFailed("Name oder Passwort falsch")
        elif record.get("locked_until") and (
            dt.datetime.fromisoformat(record["locked_until"]) > _now()
        ):
            failure = Locked(dt.datetime.fromisoformat(record["locked_until"]))
        elif not _verify_hash(record["hash"], password):
            record["failures"] = record.get("failures", 0) + 1
            failure = SignInFailed("Name oder Passwort falsch")
            if record["failures"] >= settings.lockout_attempts:
                until = _now() + dt.timedelta(minutes=settings.lockout_minutes)
                record.update(failures=0, locked_until=until.isoformat(timespec="seconds"))
                failure = Locked(until)
        else:
            record.update(failures=0, locked_until=None)
            if HASHER.check_needs_rehash(record["hash"]):
                record["hash"] = HASHER.hash(password)
            principal = Principal(name, record["role"], record.get("coach"))
    if failure is not None:
        raise failure
    return principal


def _verify_hash(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A random password that is easy to type (no look-alike characters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def ensure_demo(settings: Settings) -> tuple[str, str] | None:
    """On a fresh installation, a team-lead account ``demo`` with a random password.
    Returns (name, password) when it was created (to be shown once), else None."""
    with _store(settings) as users:
        if users:
            return None
    password = new_password()
    add_user(settings, "demo", "teamleitung", password)
    return "demo", password
