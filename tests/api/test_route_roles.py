"""Who may call what. Every route of the app either is one of the few public ones or names its roles with
`allow(...)`, so a route added without an owner fails here. The table below says, route by route, which roles
the copilot means to let in; it is written by hand from what each route is for, and the walk calls every route
with every role's API key (and with no credentials) on real tickets, drafts, users and keys: 2xx for a role
the table allows, 403 for any other, 401 with nothing.

Console pages are picked up from the app as they are written: each GET page is walked with every role's key
and must answer as the roles it declares say, and the console's navigation must show a section to exactly the
roles its page lets in. (A console POST needs a session and its CSRF token; tests/api/test_auth_errors.py and
the console's own tests cover those.)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from api.app import create_app
from api.console.templating import NAVIGATION
from copilot.domain.accounts import Actor, Role
from copilot.domain.revisions import next_patch
from copilot.services import Services
from copilot.workbench import revisions as workbench
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import api_key, workbench_services

pytestmark = pytest.mark.integration

ADMIN, SPECIALIST, SOP_WRITER, QA, SERVICE = Role.ADMIN, Role.SPECIALIST, Role.SOP_WRITER, Role.QA, Role.SERVICE
EVERYONE = frozenset(Role)
INTAKE = frozenset({SERVICE, SPECIALIST, ADMIN})  # the helpdesk's webhook, and a person entering a ticket
READERS = frozenset({SPECIALIST, QA, ADMIN})  # tickets and drafts
WORKERS = frozenset({SPECIALIST, ADMIN})  # correct labels, draft, decide, reveal masked text
LIBRARY = frozenset({SPECIALIST, SOP_WRITER, QA, ADMIN})
BACKLOG = frozenset({SERVICE, ADMIN})  # bulk re-tagging is a machine's job
ADMINS = frozenset({ADMIN})
LIBRARY_HEALTH = frozenset({SOP_WRITER, QA, ADMIN})  # coverage, gaps, conflicts, suggested edits: QA reads them
WRITERS = frozenset({SOP_WRITER, ADMIN})
WORKBENCH_READERS = frozenset({SOP_WRITER, QA, ADMIN})  # the SOP workbench's documents, revisions and diffs

Route = tuple[str, str]  # (method, path template)

# Which roles each route admits, by hand. A route added to the app fails the test below until it is added here.
ROLES: dict[Route, frozenset[Role]] = {
    ("POST", "/v1/triage"): INTAKE,
    ("POST", "/v1/suggest"): INTAKE,
    ("POST", "/v1/triage/batch"): BACKLOG,
    ("POST", "/v1/triage/jobs"): BACKLOG,
    ("GET", "/v1/triage/jobs/{job_id}"): BACKLOG,
    ("GET", "/v1/triage/jobs/{job_id}/results"): BACKLOG,
    ("GET", "/v1/tickets"): READERS,
    ("GET", "/v1/tickets/{ticket_id}"): READERS,
    ("POST", "/v1/tickets/{ticket_id}/reveal"): WORKERS,
    ("POST", "/v1/tickets/{ticket_id}/labels"): WORKERS,
    ("GET", "/v1/tickets/{ticket_id}/drafts"): READERS,
    ("POST", "/v1/tickets/{ticket_id}/drafts"): WORKERS,
    ("GET", "/v1/label-corrections"): frozenset({QA, ADMIN}),
    ("GET", "/v1/drafts/{draft_id}"): READERS,
    ("GET", "/v1/drafts/{draft_id}/history"): READERS,
    ("POST", "/v1/drafts/{draft_id}/decision"): WORKERS,
    ("GET", "/v1/kb/search"): LIBRARY,
    ("POST", "/v1/kb/ingest"): frozenset({SOP_WRITER, ADMIN}),
    ("GET", "/v1/kb/documents/{doc_id}/versions/{version}"): LIBRARY,
    ("GET", "/v1/kb/documents"): WORKBENCH_READERS,
    ("GET", "/v1/kb/documents/{doc_id}"): WORKBENCH_READERS,
    ("POST", "/v1/kb/check"): WORKBENCH_READERS,  # checks a text, changes nothing
    ("POST", "/v1/kb/documents/{doc_id}/revisions"): WRITERS,
    ("GET", "/v1/kb/revisions/{revision_id}"): WORKBENCH_READERS,
    ("GET", "/v1/kb/revisions/{revision_id}/diff"): WORKBENCH_READERS,
    ("POST", "/v1/kb/revisions/{revision_id}/publish"): WRITERS,
    ("POST", "/v1/kb/revisions/{revision_id}/discard"): WRITERS,
    ("POST", "/v1/kb/documents/{doc_id}/rollback"): WRITERS,
    ("POST", "/v1/kb/documents/{doc_id}/retire"): WRITERS,
    ("POST", "/v1/kb/impact"): WRITERS,
    ("POST", "/v1/kb/revisions/{revision_id}/impact"): WRITERS,
    ("GET", "/v1/kb/coverage"): LIBRARY_HEALTH,
    ("GET", "/v1/kb/gaps"): LIBRARY_HEALTH,
    ("GET", "/v1/kb/conflicts"): LIBRARY_HEALTH,
    ("GET", "/v1/kb/suggestions"): LIBRARY_HEALTH,
    ("POST", "/v1/kb/suggestions/{suggestion_id}/accept"): WRITERS,
    ("POST", "/v1/kb/suggestions/{suggestion_id}/dismiss"): WRITERS,
    ("GET", "/v1/audit"): frozenset({QA, ADMIN}),
    ("GET", "/v1/me"): EVERYONE,
    ("GET", "/v1/users"): ADMINS,
    ("POST", "/v1/users"): ADMINS,
    ("POST", "/v1/users/{name}/disable"): ADMINS,
    ("GET", "/v1/keys"): ADMINS,
    ("POST", "/v1/keys"): ADMINS,
    ("POST", "/v1/keys/{key_id}/revoke"): ADMINS,
    ("GET", "/metrics"): frozenset({SERVICE, ADMIN}),  # a scraper's key
    ("GET", "/docs"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
}

# Open to anyone: probes, and the page where a person signs in. Static files are mounts, also open.
PUBLIC: set[Route] = {
    ("GET", "/v1/health"),
    ("GET", "/v1/health/live"),
    ("GET", "/v1/health/ready"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
}
STATIC_MOUNTS = {"/docs/assets", "/console/static"}
CONSOLE = "/console"

Principal = Role | None  # None: no credentials at all
PRINCIPALS: list[Principal] = [*Role, None]


# The route table of the real app, and the roles its routes declare.


def served(app: FastAPI) -> Iterator[Any]:
    """Every route as the app serves it, with the dependencies of the routers that include it: FastAPI keeps an
    included router whole in `app.routes`, and `iter_route_contexts` unfolds it."""
    return iter_route_contexts(app.routes)


def api_routes(app: FastAPI) -> Iterator[tuple[Route, Any]]:
    for route in served(app):
        if isinstance(route.original_route, APIRoute):
            for method in sorted(route.methods):
                yield (method, route.path), route


def allow_dependencies(dependant: Dependant) -> Iterator[frozenset[Role]]:
    """The roles of every `allow(...)` the route depends on, however deep (the router's and the route's own)."""
    for dependency in dependant.dependencies:
        roles = getattr(dependency.call, "roles", None)
        if roles is not None:
            yield frozenset(roles)
        yield from allow_dependencies(dependency)


def declared_roles(route: Any) -> frozenset[Role] | None:
    """The roles the route admits (a caller must pass every `allow` on it), or None when it has no `allow`."""
    found = list(allow_dependencies(route.dependant))
    return frozenset.intersection(*found) if found else None


def test_every_route_is_public_or_names_the_roles_it_allows(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    unowned = [
        f"{m} {p}" for (m, p), route in api_routes(app) if (m, p) not in PUBLIC and declared_roles(route) is None
    ]
    assert unowned == [], "routes with no allow(...): add one, or list the route as public here"
    everything_else = [r.original_route for r in served(app) if not isinstance(r.original_route, APIRoute)]
    assert {r.path for r in everything_else if isinstance(r, Mount) and isinstance(r.app, StaticFiles)} == STATIC_MOUNTS
    assert all(isinstance(r, Mount) for r in everything_else), "a route this test cannot check for an owner"
    present = {route for route, _ in api_routes(app)}
    assert present >= PUBLIC, f"public routes gone: {PUBLIC - present}"


def test_the_table_names_every_route_outside_the_console_with_the_roles_it_declares(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    declared = {
        route: declared_roles(api_route)
        for route, api_route in api_routes(app)
        if route not in PUBLIC and not route[1].startswith(CONSOLE)
    }
    assert set(declared) - set(ROLES) == set(), "routes missing from the table"
    assert set(ROLES) - set(declared) == set(), "routes in the table that the app no longer has"
    differ = {
        f"{m} {p}": (sorted(declared[m, p] or ()), sorted(ROLES[m, p]))
        for m, p in ROLES
        if declared[m, p] != ROLES[m, p]
    }
    assert differ == {}, "(declared, meant) roles differ"


def test_the_console_shows_each_section_to_the_roles_its_page_admits(client: TestClient) -> None:
    pages = {path: route for (method, path), route in api_routes(client.app) if method == "GET"}  # type: ignore[arg-type]
    for label, href, roles in NAVIGATION:
        if href in pages:  # sections whose page is still being written are checked once it exists
            assert declared_roles(pages[href]) == roles, f"{label} ({href}) is shown to other roles than it admits"


# Real things to call the routes on, made as an admin.


@dataclass
class Call:
    method: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)  # json, params, files, data for TestClient.request
    on_bench: bool = False  # a write to SOP files: made on the bench's own copy, never the shared SOP folder


@dataclass
class World:
    """A ticket with a pending draft, a user, a key and a finished job: what forbidden calls aim at, and what
    allowed calls that change nothing reuse. An allowed call that changes its target gets a fresh one."""

    admin: TestClient
    ticket_id: str
    draft_id: str
    user: str
    key_id: str
    job_id: str
    doc_id: str
    version: str
    suggestions: list[str] = field(default_factory=list)  # open suggested template edits, one per admitted call
    revision_id: int = 0  # a draft revision of doc_id (in the database only: the SOP folder is untouched)
    bench: Bench | None = None

    @classmethod
    def make(cls, admin: TestClient, services: Services) -> World:
        draft = created(admin.post("/v1/suggest", json=ticket_body()))
        document = services.library.active()[0]
        return cls(
            admin=admin,
            ticket_id=draft["ticket_id"],
            draft_id=draft["id"],
            user=fresh_user(admin),
            key_id=fresh_key(admin),
            job_id=finished_job(admin),
            doc_id=document.id,
            version=document.version,
            suggestions=suggestion_pool(admin, size=4),
            revision_id=fresh_revision(admin, document.id),
        )

    def fresh_draft(self) -> str:
        return str(created(self.admin.post(f"/v1/tickets/{self.ticket_id}/drafts"))["id"])


def created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    return response.json()  # type: ignore[no-any-return]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ticket_body() -> dict[str, str]:
    return {"text": "my withdrawal of $80 from last week has not arrived", "helpdesk_id": unique("HD-roles")}


def fresh_user(admin: TestClient) -> str:
    body = {"name": unique("roles"), "role": "qa", "password": "a long enough password"}
    return str(created(admin.post("/v1/users", json=body))["name"])


def fresh_key(admin: TestClient) -> str:
    return str(created(admin.post("/v1/keys", json={"name": unique("roles-key")}))["key"]["id"])


def suggestion_pool(admin: TestClient, *, size: int) -> list[str]:
    """Open suggested template edits, made as agents make them: the same new sentences added to three drafts of one
    template (suggestion_min_edits is 3), one suggestion per sentence."""
    added = [f"Reference {unique('note')} stays on file." for _ in range(size)]
    for _ in range(3):
        draft = created(admin.post("/v1/suggest", json=ticket_body()))
        head, _, sign_off = draft["reply"].rpartition("\n\n")
        final = f"{head}\n\n{' '.join(added)}\n\n{sign_off}"
        created(admin.post(f"/v1/drafts/{draft['id']}/decision", json={"kind": "edit", "final_text": final}))
    proposed = {s["sentence"]: s["id"] for s in created(admin.get("/v1/kb/suggestions"))}
    return [proposed[sentence] for sentence in added]


def fresh_revision(admin: TestClient, doc_id: str) -> int:
    """A draft revision of a document of the shared library: kept in the database, never published."""
    text = created(admin.get(f"/v1/kb/documents/{doc_id}"))["text"]
    return int(created(admin.post(f"/v1/kb/documents/{doc_id}/revisions", json={"text": text}))["id"])


@dataclass
class Bench:
    """Services of their own over a copy of part of the SOP folder, for the calls that publish, roll back and
    retire (they write SOP files), with the app over them and a key of each role in their database."""

    services: Services
    anyone: TestClient
    keys: dict[Role, str]

    def raised_revision(self, doc_id: str = "SOP-CR-04") -> int:
        """A draft revision of the document under the next patch version, ready to publish."""
        doc = self.services.library.documents[doc_id]
        text = (self.services.settings.sop_dir / f"{doc_id}.md").read_text(encoding="utf-8")
        raised = text.replace(f"version: {doc.version}", f"version: {next_patch(doc.version)}", 1)
        return workbench.save_revision(doc_id, raised, services=self.services, by=Actor.operator("tests")).id

    def earlier_version(self, doc_id: str) -> str:
        """The version in force, after publishing a newer one: a version to roll back to."""
        version = self.services.library.documents[doc_id].version
        by = Actor.operator("tests")
        workbench.publish(self.raised_revision(doc_id), services=self.services, by=by, override_reason="newer")
        return version

    def new_document(self) -> str:
        """A new document nothing refers to, published: one to retire."""
        doc_id = f"SOP-CR-{uuid.uuid4().hex[:6].upper()}"
        text = (self.services.settings.sop_dir / "SOP-CR-04.md").read_text(encoding="utf-8")
        text = text.replace("id: SOP-CR-04", f"id: {doc_id}").replace("intents: [payment_method_update]", "intents: []")
        by = Actor.operator("tests")
        revision = workbench.save_revision(doc_id, text, services=self.services, by=by)
        workbench.publish(revision.id, services=self.services, by=by, override_reason="a document to retire")
        return doc_id


def bench_of(w: World) -> Bench:
    assert w.bench is not None
    return w.bench


def job_file() -> dict[str, tuple[str, bytes, str]]:
    line = json.dumps({"id": unique("BL"), "text": "how do I set up subscriptions for my fans?"})
    return {"file": ("backlog.jsonl", f"{line}\n".encode(), "application/x-ndjson")}


def finished_job(admin: TestClient) -> str:
    job_id = str(created(admin.post("/v1/triage/jobs", files=job_file()))["id"])
    deadline = time.monotonic() + 60  # a bound on waiting for the in-process runner, not a speed target
    while (state := created(admin.get(f"/v1/triage/jobs/{job_id}"))["status"]) in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still {state}"
        time.sleep(0.1)
    assert state == "done", state
    return job_id


# A valid request for each route, given the world and whether the call will be admitted (and so may change
# its target: a decided draft cannot be decided again, a revoked key not revoked again).
Request = Callable[[World, bool], Call]

REQUESTS: dict[Route, Request] = {
    ("POST", "/v1/triage"): lambda w, _: Call("POST", "/v1/triage", {"json": ticket_body()}),
    ("POST", "/v1/suggest"): lambda w, _: Call("POST", "/v1/suggest", {"json": ticket_body()}),
    ("POST", "/v1/triage/batch"): lambda w, _: Call("POST", "/v1/triage/batch", {"json": {"tickets": [ticket_body()]}}),
    ("POST", "/v1/triage/jobs"): lambda w, _: Call("POST", "/v1/triage/jobs", {"files": job_file()}),
    ("GET", "/v1/triage/jobs/{job_id}"): lambda w, _: Call("GET", f"/v1/triage/jobs/{w.job_id}"),
    ("GET", "/v1/triage/jobs/{job_id}/results"): lambda w, _: Call("GET", f"/v1/triage/jobs/{w.job_id}/results"),
    ("GET", "/v1/tickets"): lambda w, _: Call("GET", "/v1/tickets", {"params": {"limit": 5}}),
    ("GET", "/v1/tickets/{ticket_id}"): lambda w, _: Call("GET", f"/v1/tickets/{w.ticket_id}"),
    ("POST", "/v1/tickets/{ticket_id}/reveal"): lambda w, _: Call("POST", f"/v1/tickets/{w.ticket_id}/reveal"),
    ("POST", "/v1/tickets/{ticket_id}/labels"): lambda w, _: Call(
        "POST", f"/v1/tickets/{w.ticket_id}/labels", {"json": {"priority": "P3"}}
    ),
    ("GET", "/v1/tickets/{ticket_id}/drafts"): lambda w, _: Call("GET", f"/v1/tickets/{w.ticket_id}/drafts"),
    ("POST", "/v1/tickets/{ticket_id}/drafts"): lambda w, _: Call("POST", f"/v1/tickets/{w.ticket_id}/drafts"),
    ("GET", "/v1/label-corrections"): lambda w, _: Call("GET", "/v1/label-corrections"),
    ("GET", "/v1/drafts/{draft_id}"): lambda w, _: Call("GET", f"/v1/drafts/{w.draft_id}"),
    ("GET", "/v1/drafts/{draft_id}/history"): lambda w, _: Call("GET", f"/v1/drafts/{w.draft_id}/history"),
    ("POST", "/v1/drafts/{draft_id}/decision"): lambda w, admitted: Call(
        "POST", f"/v1/drafts/{w.fresh_draft() if admitted else w.draft_id}/decision", {"json": {"kind": "approve"}}
    ),
    ("GET", "/v1/kb/search"): lambda w, _: Call("GET", "/v1/kb/search", {"params": {"q": "payout", "k": 1}}),
    ("POST", "/v1/kb/ingest"): lambda w, _: Call("POST", "/v1/kb/ingest"),  # the unchanged library: a no-op
    ("GET", "/v1/kb/documents/{doc_id}/versions/{version}"): lambda w, _: Call(
        "GET", f"/v1/kb/documents/{w.doc_id}/versions/{w.version}"
    ),
    ("GET", "/v1/kb/coverage"): lambda w, _: Call("GET", "/v1/kb/coverage"),
    ("GET", "/v1/kb/gaps"): lambda w, _: Call("GET", "/v1/kb/gaps"),
    ("GET", "/v1/kb/conflicts"): lambda w, _: Call("GET", "/v1/kb/conflicts"),
    ("GET", "/v1/kb/suggestions"): lambda w, _: Call("GET", "/v1/kb/suggestions"),
    ("POST", "/v1/kb/suggestions/{suggestion_id}/accept"): lambda w, admitted: Call(
        "POST", f"/v1/kb/suggestions/{w.suggestions.pop() if admitted else 'not-a-suggestion'}/accept"
    ),
    ("POST", "/v1/kb/suggestions/{suggestion_id}/dismiss"): lambda w, admitted: Call(
        "POST", f"/v1/kb/suggestions/{w.suggestions.pop() if admitted else 'not-a-suggestion'}/dismiss"
    ),
    ("GET", "/v1/kb/documents"): lambda w, _: Call("GET", "/v1/kb/documents"),
    ("GET", "/v1/kb/documents/{doc_id}"): lambda w, _: Call("GET", f"/v1/kb/documents/{w.doc_id}"),
    ("POST", "/v1/kb/check"): lambda w, _: Call(
        "POST", "/v1/kb/check", {"json": {"doc_id": w.doc_id, "text": "---\nid: x\n---\n"}}
    ),
    ("POST", "/v1/kb/documents/{doc_id}/revisions"): lambda w, _: Call(
        "POST",
        f"/v1/kb/documents/{w.doc_id}/revisions",
        {"json": {"text": created(w.admin.get(f"/v1/kb/documents/{w.doc_id}"))["text"]}},
    ),
    ("GET", "/v1/kb/revisions/{revision_id}"): lambda w, _: Call("GET", f"/v1/kb/revisions/{w.revision_id}"),
    ("GET", "/v1/kb/revisions/{revision_id}/diff"): lambda w, _: Call("GET", f"/v1/kb/revisions/{w.revision_id}/diff"),
    ("POST", "/v1/kb/revisions/{revision_id}/publish"): lambda w, admitted: Call(
        "POST",
        f"/v1/kb/revisions/{bench_of(w).raised_revision() if admitted else 1}/publish",
        {"json": {"override_reason": "the route x role walk"}},
        on_bench=True,
    ),
    ("POST", "/v1/kb/revisions/{revision_id}/discard"): lambda w, admitted: Call(
        "POST", f"/v1/kb/revisions/{fresh_revision(w.admin, w.doc_id) if admitted else w.revision_id}/discard"
    ),
    ("POST", "/v1/kb/impact"): lambda w, _: Call(
        "POST",
        "/v1/kb/impact",
        {"json": {"doc_id": w.doc_id, "text": created(w.admin.get(f"/v1/kb/documents/{w.doc_id}"))["text"]}},
    ),
    ("POST", "/v1/kb/revisions/{revision_id}/impact"): lambda w, admitted: Call(
        "POST", f"/v1/kb/revisions/{fresh_revision(w.admin, w.doc_id) if admitted else w.revision_id}/impact"
    ),
    ("POST", "/v1/kb/documents/{doc_id}/rollback"): lambda w, admitted: Call(
        "POST",
        "/v1/kb/documents/SOP-CR-03/rollback",
        {"json": {"version": bench_of(w).earlier_version("SOP-CR-03") if admitted else "1.0.2"}},
        on_bench=True,
    ),
    ("POST", "/v1/kb/documents/{doc_id}/retire"): lambda w, admitted: Call(
        "POST",
        f"/v1/kb/documents/{bench_of(w).new_document() if admitted else 'SOP-CR-05'}/retire",
        {"json": {"confirm": True}},
        on_bench=True,
    ),
    ("GET", "/v1/audit"): lambda w, _: Call("GET", "/v1/audit", {"params": {"limit": 5}}),
    ("GET", "/v1/me"): lambda w, _: Call("GET", "/v1/me"),
    ("GET", "/v1/users"): lambda w, _: Call("GET", "/v1/users"),
    ("POST", "/v1/users"): lambda w, _: Call(
        "POST", "/v1/users", {"json": {"name": unique("roles"), "role": "specialist", "password": "long enough pw"}}
    ),
    ("POST", "/v1/users/{name}/disable"): lambda w, admitted: Call(
        "POST", f"/v1/users/{fresh_user(w.admin) if admitted else w.user}/disable"
    ),
    ("GET", "/v1/keys"): lambda w, _: Call("GET", "/v1/keys"),
    ("POST", "/v1/keys"): lambda w, _: Call("POST", "/v1/keys", {"json": {"name": unique("roles-key")}}),
    ("POST", "/v1/keys/{key_id}/revoke"): lambda w, admitted: Call(
        "POST", f"/v1/keys/{fresh_key(w.admin) if admitted else w.key_id}/revoke"
    ),
    ("GET", "/metrics"): lambda w, _: Call("GET", "/metrics"),
    ("GET", "/docs"): lambda w, _: Call("GET", "/docs"),
    ("GET", "/openapi.json"): lambda w, _: Call("GET", "/openapi.json"),
    ("GET", "/docs/oauth2-redirect"): lambda w, _: Call("GET", "/docs/oauth2-redirect"),
}


@pytest.fixture(scope="module")
def world(
    client: TestClient,
    ready: Services,
    embeddings: LocalMiniLMEmbeddings,
    api_keys: dict[Role, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    made = World.make(client, ready)
    services = workbench_services(tmp_path_factory.mktemp("roles-bench"), embeddings)
    with TestClient(create_app(services=services), follow_redirects=False) as bare:
        made.bench = Bench(services, bare, {role: api_key(services, role) for role in Role})
        yield made
    services.store.close()


@pytest.fixture(scope="module")
def anyone(client: TestClient) -> Iterator[TestClient]:
    """The same app, calling with no credentials unless a call sends a key."""
    with TestClient(client.app, follow_redirects=False) as bare:
        yield bare


def headers_of(principal: Principal, keys: dict[Role, str]) -> dict[str, str]:
    return {} if principal is None else {"X-API-Key": keys[principal]}


def expected(principal: Principal, allowed: frozenset[Role]) -> str:
    return "401" if principal is None else "2xx" if principal in allowed else "403"


def answered(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


def test_the_table_has_a_request_for_every_route() -> None:
    assert set(REQUESTS) == set(ROLES)


@pytest.mark.parametrize("route", sorted(ROLES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_gets_what_the_table_says(
    route: Route, world: World, anyone: TestClient, api_keys: dict[Role, str]
) -> None:
    wrong = {}
    for principal in PRINCIPALS:
        admitted = principal in ROLES[route]
        call = REQUESTS[route](world, admitted)
        via, keys = (world.bench.anyone, world.bench.keys) if call.on_bench and world.bench else (anyone, api_keys)
        response = via.request(call.method, call.path, headers=headers_of(principal, keys), **call.options)
        want = expected(principal, ROLES[route])
        if answered(response.status_code) != want:
            wrong[str(principal)] = f"wanted {want}, got {response.status_code}: {response.text[:200]}"
    assert wrong == {}


def console_pages(app: FastAPI) -> list[tuple[str, Any]]:
    pages = {
        path: route
        for (method, path), route in api_routes(app)
        if method == "GET" and path.startswith(CONSOLE) and (method, path) not in PUBLIC
    }
    return sorted(pages.items())


def test_each_role_gets_the_console_pages_its_role_allows(
    world: World, anyone: TestClient, api_keys: dict[Role, str]
) -> None:
    """A key is a valid principal for a GET: each page answers 200 to the roles it admits and 403 to the others;
    with no credentials a person is sent to sign in."""
    fill = {
        "ticket_id": world.ticket_id,
        "draft_id": world.draft_id,
        "doc_id": world.doc_id,
        "version": world.version,
        "name": world.user,
        "key_id": world.key_id,
        "job_id": world.job_id,
        "revision_id": world.revision_id,
    }
    wrong = {}
    for template, route in console_pages(anyone.app):  # type: ignore[arg-type]
        params = {p.name for p in route.dependant.path_params}
        assert params <= set(fill), f"{template}: add a real value for {params - set(fill)} to this test"
        path = template.format(**{name: fill[name] for name in params})
        allowed = declared_roles(route) or frozenset()
        for principal in PRINCIPALS:
            response = anyone.get(path, headers=headers_of(principal, api_keys))
            if principal is None:
                if response.status_code != 303 or "/console/login?reason=required" not in response.headers["location"]:
                    wrong[f"{template} anonymous"] = f"not sent to sign in: {response.status_code}"
            elif response.status_code != (200 if principal in allowed else 403):
                wrong[f"{template} {principal}"] = f"got {response.status_code}"
    assert wrong == {}
