"""Our own exceptions that a route can raise and the status each means, for the API's JSON answers and the
console's pages alike (api/app.py installs the handlers)."""

from __future__ import annotations

from api.security import CsrfRefused, Forbidden
from copilot.domain.approval import AlreadyDecided
from copilot.domain.taxonomy import UnknownLabel
from copilot.domain.tickets import TicketTooLong
from copilot.services import KnowledgeBaseEmpty
from copilot.store.accounts import AccountError, AccountExists, AccountNotFound, NotSignedIn, SignInThrottled
from copilot.store.drafts import DraftNotFound
from copilot.store.sop_versions import VersionNotFound
from copilot.store.tickets import TicketNotFound
from copilot.triage import TriageModelError
from knowledge_base.loader import SopError

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
    AccountError: 422,  # a bad user name, a short password, a key revoked twice
    AlreadyDecided: 409,  # a second decision on a draft
    TicketTooLong: 413,  # /v1/triage, /v1/suggest (the batch lists such tickets in `skipped`)
    UnknownLabel: 422,  # GET /v1/kb/search with a LOB the taxonomy does not hold
    SopError: 422,  # POST /v1/kb/ingest with an invalid SOP file
    TriageModelError: 503,  # the triage model cannot be used
    KnowledgeBaseEmpty: 503,  # /v1/suggest before any SOP is ingested
}


def status_of(exc: Exception) -> int:
    """The status an error of ours is answered with (the first of its classes in ERROR_STATUS)."""
    return next(ERROR_STATUS[kind] for kind in type(exc).__mro__ if kind in ERROR_STATUS)
