"""Accounts: people with passwords, services with API keys, console sessions, and failed sign-ins.

Passwords are hashed with argon2 (pwdlib). API keys and session tokens are 256-bit random strings: they are
kept as SHA-256 hashes, which is enough for secrets nobody can guess and costs microseconds per request,
where argon2 would cost tens of milliseconds on every call. No secret is ever stored or returned in clear
after it is made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from copilot.domain.accounts import Actor, ActorKind, ApiKey, Role, User
from copilot.domain.drafts import utcnow
from copilot.domain.records import AuditAction, AuditEntry
from copilot.domain.text import control_character
from copilot.store.audit import append
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import api_keys, login_failures, sessions, users

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD_CHARS = 10
KEY_PREFIX = "cpk"
_hasher = PasswordHash.recommended()


@functools.cache
def _unknown_user_hash() -> str:
    """Compared against when the user does not exist, so an unknown name takes as long as a wrong password.
    Made at the first sign-in, not at import: an argon2 hash is slow on purpose, and every process (a CLI
    command, each server worker) would pay it at start."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be done as asked; the message says why."""


class AccountExists(AccountError):
    pass


class KeyAlreadyRevoked(AccountError):
    """A revoke of a key revoked before: a conflict with the key's state, not a bad request (HTTP 409)."""


class AccountNotFound(AccountError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class NotSignedIn(Exception):
    """No valid credentials: no session or key, an expired session, a revoked or unknown key (HTTP 401)."""


class SignInRefused(NotSignedIn):
    """A wrong user name or password, or a disabled account: the same message for each."""

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


class SignInThrottled(Exception):
    """Too many failed sign-ins for this name or from this address in the window (HTTP 429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {max(1, round(retry_after_s / 60))} minute(s)")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class SignInLimits:
    max_failures: int
    window: dt.timedelta


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountStore:
    def __init__(self, engine: Engine, *, limits: SignInLimits, session_hours: float) -> None:
        self.engine = engine
        self.limits = limits
        self.session_length = dt.timedelta(hours=session_hours)
        ensure_schema(engine)

    # People

    def add_user(self, name: str, role: Role, password: str, *, by: Actor) -> User:
        """A new enabled account; raises AccountError for a bad name or short password, AccountExists."""
        if not USER_NAME.match(name):
            raise AccountError(f"user name {name!r} must be 2 to 63 of a-z 0-9 . _ -, starting with a letter or digit")
        _check_password(password)
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(users).values(
                        name=name,
                        role=role.value,
                        password_hash=_hasher.hash(password),
                        created_at=now,
                        created_by=by.name,
                    )
                )
                append(conn, AuditEntry.of(by, AuditAction.USER_CREATED, name, now, role=role.value))
        except IntegrityError as exc:
            raise AccountExists(f"user {name!r} already exists") from exc
        return self.user(name)

    def user(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        if row is None:
            raise AccountNotFound(f"no user {name!r}")
        return _user(dict(row))

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(dict(row)) for row in conn.execute(select(users).order_by(users.c.name)).mappings()]

    def count_users(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def disable_user(self, name: str, *, by: Actor) -> User:
        """The account can no longer sign in, and its open sessions end now."""
        now = utcnow()
        with self.engine.begin() as conn:
            moved = conn.execute(update(users).where(users.c.name == name).values(disabled_at=now))
            if moved.rowcount != 1:
                raise AccountNotFound(f"no user {name!r}")
            conn.execute(update(sessions).where(sessions.c.user_name == name).values(ended_at=now))
            append(conn, AuditEntry.of(by, AuditAction.USER_DISABLED, name, now))
        return self.user(name)

    def set_password(self, name: str, password: str, *, by: Actor) -> None:
        _check_password(password)
        now = utcnow()
        with self.engine.begin() as conn:
            moved = conn.execute(update(users).where(users.c.name == name).values(password_hash=_hasher.hash(password)))
            if moved.rowcount != 1:
                raise AccountNotFound(f"no user {name!r}")
            append(conn, AuditEntry.of(by, AuditAction.USER_PASSWORD_SET, name, now))

    # Signing in

    def sign_in(self, name: str, password: str, *, address: str) -> tuple[str, Session]:
        """A new session for the right password: returns its token (for the cookie) and the session.
        Raises SignInThrottled before checking anything when this name or address failed too often, and
        SignInRefused (the failure kept and audited) for a wrong name, password or a disabled account."""
        name = name.strip().lower()[:100]
        now = utcnow()
        self._check_throttle(name, address, now)
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        ok = _hasher.verify(password, row["password_hash"] if row else _unknown_user_hash())
        if not ok or row is None or row["disabled_at"] is not None:
            attempt = Actor(name=name or "?", kind=ActorKind.USER, address=address)
            with self.engine.begin() as conn:
                conn.execute(insert(login_failures).values(user_name=name, address=address[:100], at=now))
                append(conn, AuditEntry.of(attempt, AuditAction.SIGN_IN_FAILED, name, now))
            raise SignInRefused()
        user = _user(dict(row))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + self.session_length
        with self.engine.begin() as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=_digest(token), user_name=name, csrf_token=csrf, created_at=now, expires_at=expires
                )
            )
            # A success clears this name's failures, so an owner who mistyped is not held back later.
            conn.execute(delete(login_failures).where(login_failures.c.user_name == name))
            append(conn, AuditEntry.of(user.actor(address=address), AuditAction.SIGNED_IN, name, now))
        return token, Session(user=user, csrf_token=csrf, expires_at=expires)

    def _check_throttle(self, name: str, address: str, now: dt.datetime) -> None:
        since = now - self.limits.window
        with self.engine.connect() as conn:
            for column, value in ((login_failures.c.user_name, name), (login_failures.c.address, address)):
                failures = conn.execute(
                    select(func.count(), func.min(login_failures.c.at)).where(
                        column == value, login_failures.c.at > since
                    )
                ).one()
                if failures[0] >= self.limits.max_failures:
                    free_at = as_utc(failures[1]) + self.limits.window
                    raise SignInThrottled(int((free_at - now).total_seconds()) + 1)

    def session(self, token: str) -> Session:
        """The live session of a cookie's token; raises NotSignedIn saying why it is not."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(users, sessions.c.csrf_token, sessions.c.expires_at, sessions.c.ended_at)
                    .join(users, users.c.name == sessions.c.user_name)
                    .where(sessions.c.token_hash == _digest(token))
                )
                .mappings()
                .first()
            )
        if row is None or row["ended_at"] is not None:
            raise NotSignedIn("not signed in")
        if as_utc(row["expires_at"]) <= utcnow():
            raise NotSignedIn("the session has expired; sign in again")
        if row["disabled_at"] is not None:
            raise NotSignedIn("the account is disabled")
        return Session(user=_user(dict(row)), csrf_token=row["csrf_token"], expires_at=as_utc(row["expires_at"]))

    def sign_out(self, token: str, *, by: Actor) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == _digest(token)).values(ended_at=now))
            append(conn, AuditEntry.of(by, AuditAction.SIGNED_OUT, by.name, now))

    # Services

    def create_key(self, name: str, role: Role, *, by: Actor) -> tuple[ApiKey, str]:
        """A new key; returns it and its secret, which is shown this once and kept only as a hash."""
        if not name.strip() or len(name) > 100:
            raise AccountError("a key needs a name of 1 to 100 characters, such as the service that uses it")
        if problem := control_character(name, one_line=True):  # the name is in every actor the key writes as
            raise AccountError(f"key name {problem}")
        key_id, secret, now = secrets.token_hex(6), secrets.token_urlsafe(32), utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key_id,
                    name=name,
                    role=role.value,
                    secret_hash=_digest(secret),
                    created_at=now,
                    created_by=by.name,
                )
            )
            append(conn, AuditEntry.of(by, AuditAction.KEY_CREATED, key_id, now, name=name, role=role.value))
        return self.key(key_id), f"{KEY_PREFIX}_{key_id}_{secret}"

    def key(self, key_id: str) -> ApiKey:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise AccountNotFound(f"no API key {key_id!r}")
        return _key(dict(row))

    def keys(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)).mappings()
            return [_key(dict(row)) for row in rows]

    def revoke_key(self, key_id: str, *, by: Actor) -> ApiKey:
        now = utcnow()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=now)
            )
            if moved.rowcount != 1:
                self.key(key_id)  # AccountNotFound for an unknown id
                raise KeyAlreadyRevoked(f"API key {key_id!r} is already revoked")
            append(conn, AuditEntry.of(by, AuditAction.KEY_REVOKED, key_id, now))
        return self.key(key_id)

    def key_for(self, presented: str) -> ApiKey:
        """The active key a caller presents; raises NotSignedIn for a malformed, unknown or revoked one."""
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret:
            raise NotSignedIn("malformed API key")
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None or not hmac.compare_digest(row["secret_hash"], _digest(secret)):
            raise NotSignedIn("unknown API key")
        if row["revoked_at"] is not None:
            raise NotSignedIn("this API key was revoked")
        return _key(dict(row))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def _user(row: dict[str, Any]) -> User:
    return User(
        name=row["name"],
        role=Role(row["role"]),
        created_at=as_utc(row["created_at"]),
        created_by=row["created_by"],
        disabled_at=row["disabled_at"] and as_utc(row["disabled_at"]),
    )


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=as_utc(row["created_at"]),
        created_by=row["created_by"],
        revoked_at=row["revoked_at"] and as_utc(row["revoked_at"]),
    )
