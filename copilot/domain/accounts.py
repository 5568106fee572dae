"""Who may do what: the roles of the people and machines that use the copilot, and who did a write."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain.text import CleanLine


class Role(StrEnum):
    """A principal's one role. Each route of the API and console names the roles it allows."""

    ADMIN = "admin"  # everything, including accounts and keys
    SPECIALIST = "specialist"  # works the queue: reads tickets, corrects labels, decides drafts
    SOP_WRITER = "sop_writer"  # edits and ingests the SOP library
    QA = "qa"  # reads tickets, drafts, decisions and the audit log; exports training data
    SERVICE = "service"  # a machine caller (the helpdesk's intake webhook): triages and suggests, never decides


class ActorKind(StrEnum):
    USER = "user"  # a person signed in to the console with a password
    KEY = "key"  # a service calling with an API key
    CLI = "cli"  # an operator on the server's machine, through the copilot command
    SYSTEM = "system"  # the copilot itself (the start-up ingest, say)


class Actor(BaseModel):
    """Who does a write, as the audit log and a decision record it: never a name taken from a request body."""

    model_config = ConfigDict(frozen=True)

    name: CleanLine = Field(min_length=1, max_length=200)
    kind: ActorKind
    role: Role | None = Field(None, description="None for the copilot itself and the CLI, which are not accounts.")
    address: str | None = Field(None, description="Where the request came from: the client address, or 'cli'.")
    request_id: str | None = None

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(name=f"copilot:{what}", kind=ActorKind.SYSTEM, address="local")

    @classmethod
    def operator(cls, name: str) -> Actor:
        """Someone running the CLI on the server: trusted as whoever has the data dir, recorded as such."""
        return cls(name=name, kind=ActorKind.CLI, address="cli")

    def may(self, *roles: Role) -> bool:
        return self.role is not None and self.role in roles


class User(BaseModel):
    """A person's account. The password hash never leaves the store."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Role
    created_at: dt.datetime
    created_by: str
    disabled_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def actor(self, *, address: str | None = None, request_id: str | None = None) -> Actor:
        return Actor(name=self.name, kind=ActorKind.USER, role=self.role, address=address, request_id=request_id)


class ApiKey(BaseModel):
    """A service's key, as listed: its id and name, never its secret (kept only as a hash)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def actor(self, *, address: str | None = None, request_id: str | None = None) -> Actor:
        return Actor(
            name=f"key:{self.name}", kind=ActorKind.KEY, role=self.role, address=address, request_id=request_id
        )
