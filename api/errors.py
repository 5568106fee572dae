"""Our own exceptions that a route can raise and the status each means, for the API's JSON answers and the
console's pages alike (api/app.py installs the handlers)."""

from __future__ import annotations

from sqlalchemy import exc as database

from api.rate_limits import RateLimited
from api.security import CsrfRefused, Forbidden
from copilot.domain.approval import AlreadyDecided
from copilot.domain.taxonomy import UnknownLabel
from copilot.domain.text import ControlCharacters
from copilot.domain.tickets import BatchTooLarge, TicketTooLong
from copilot.services import KnowledgeBaseEmpty
from copilot.store.accounts import (
    AccountError,
    AccountExists,
    AccountNotFound,
    KeyAlreadyRevoked,
    NotSignedIn,
    SignInThrottled,
)
from copilot.store.database import storage_refused
from copilot.store.drafts import DraftNotFound
from copilot.store.sop_revisions import RevisionNotDraft, RevisionNotFound
from copilot.store.sop_versions import VersionNotFound
from copilot.store.tickets import TicketNotFound
from copilot.triage import TriageModelError
from copilot.workbench.revisions import DocumentNotFound, PublishRefused, RetireNeedsConfirmation, RevisionInvalid
from copilot.workbench.suggestions import SuggestionNotFound
from knowledge_base.loader import SopError
from knowledge_base.snapshot import IndexChanging, VersionUnavailable

# Our own exceptions that a route can raise, and the status each means. Anything else, a bare ValueError
# included, is a bug in the service: FastAPI answers 500 and logs the traceback. (Bad request bodies and
# parameters are 422 from FastAPI's own validation; a bad ticket text is a 422 raised in api/deps.py.)
ERROR_STATUS: dict[type[Exception], int] = {
    NotSignedIn: 401,  # no key or session, an unknown or revoked key, an expired session, a wrong password
    Forbidden: 403,  # a role the route does not allow
    CsrfRefused: 403,  # a console write without the session's CSRF token
    SignInThrottled: 429,  # too many failed sign-ins (with Retry-After)
    DraftNotFound: 404,  # GET /v1/drafts/{id}, its history, a decision on it
    TicketNotFound: 404,  # /v1/tickets/{id} and what hangs off it
    VersionNotFound: 404,  # a document version never published
    AccountNotFound: 404,  # a user or key that does not exist
    AccountExists: 409,  # a user name already taken
    KeyAlreadyRevoked: 409,  # a key revoked twice
    AccountError: 422,  # a bad user name, a short password
    AlreadyDecided: 409,  # a second decision on a draft
    TicketTooLong: 413,  # /v1/triage, /v1/suggest (the batch lists such tickets in `skipped`)
    UnknownLabel: 422,  # GET /v1/kb/search with a LOB the taxonomy does not hold
    SopError: 422,  # POST /v1/kb/ingest with an invalid SOP file
    DocumentNotFound: 404,  # the SOP workbench: a document the library does not hold
    RevisionNotFound: 404,  # ... a revision id never saved
    RevisionNotDraft: 409,  # ... publishing or discarding a revision published or discarded already
    PublishRefused: 409,  # ... a version not raised, an impact gate neither passed nor overridden
    RetireNeedsConfirmation: 409,  # ... retiring a document others refer to, without confirm
    RevisionInvalid: 422,  # ... a text that does not check (the problems name field and line)
    SuggestionNotFound: 404,  # a suggested template edit accepted or dismissed already, or never proposed
    TriageModelError: 503,  # the triage model cannot be used
    KnowledgeBaseEmpty: 503,  # /v1/suggest before any SOP is ingested
    IndexChanging: 503,  # the index holds no complete library version yet (an ingest under way, or killed midway)
    VersionUnavailable: 503,  # the index holds a version whose text is neither in the SOP folder nor kept
    ControlCharacters: 422,  # a NUL or other control character in a path, query or form value (api/parameters.py)
    BatchTooLarge: 413,  # /v1/triage/batch over max_batch_tickets or max_batch_chars
    RateLimited: 429,  # over rate_limit_per_principal (with Retry-After); per address, api/rate_limits.py answers
    # The records database cannot be reached (restarting, say): the caller may try again; pooled connections are
    # checked before use (pool_pre_ping), so the service recovers by itself once the server is back.
    database.OperationalError: 503,
    database.InterfaceError: 503,
    database.TimeoutError: 503,  # no pooled connection came free in time
    # Any other database error is a bug, answered 500 like one, but with a plain message and no traceback in the
    # log: a server's message can quote the values of the statement (a key's DETAIL, say).
    database.DBAPIError: 500,
}

DATABASE_UNAVAILABLE = "the records database is unavailable just now; try again shortly"
DATABASE_FAILED = "the records database refused the request"
STORAGE_REFUSED = (
    "the records database cannot write: its disk is full or read-only. Send the request again once the operator "
    "has freed space or made the data dir writable"
)


def public_detail(exc: Exception) -> str:
    """What the caller is told: the exception's own message, except for a database error, whose message holds
    SQL (and a server's message can hold values), so only its kind is said."""
    if storage_refused(exc):
        return STORAGE_REFUSED
    if isinstance(exc, database.DBAPIError | database.TimeoutError):
        return DATABASE_UNAVAILABLE if status_of(exc) == 503 else DATABASE_FAILED
    return str(exc)


def status_of(exc: Exception) -> int:
    """The status an error of ours is answered with (the first of its classes in ERROR_STATUS)."""
    return next(ERROR_STATUS[kind] for kind in type(exc).__mro__ if kind in ERROR_STATUS)
