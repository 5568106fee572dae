"""The SOP writers' pages: the library, a document with its kept versions, the editor (checked as it is typed),
a draft revision with its diff, publish (impact gate or a written override), discard, roll back and retire.

The work is copilot/workbench/revisions.py's, done as the signed-in writer so the audit log names them. As on
the other pages, a refused form comes back with the problem and the status the API gives the same error, and a
success redirects (303) with a message code mapped to text here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.presenting import diff_lines, published_page
from api.console.templating import render
from api.deps import services
from api.errors import status_of
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.domain.revisions import RevisionStatus, SopRevision
from copilot.pipeline import ingest
from copilot.services import Services
from copilot.store.sop_revisions import RevisionNotDraft
from copilot.store.sop_versions import VersionNotFound
from copilot.workbench import revisions as workbench
from knowledge_base.checking import Checked
from knowledge_base.loader import SopError

router = APIRouter(prefix="/console/sop", include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
SopWriter = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]
STYLES = ("/console/static/admin.css", "/console/static/sop_workbench.css")

DONE = {
    "saved": "Draft revision saved: the copilot does not use it until it is published.",
    "published": "Published: the file is written and the index updated.",
    "discarded": "Draft revision discarded.",
    "rolled-back": "Rolled back: the earlier text is published under a new version.",
    "retired": "Retired: the copilot no longer uses this document.",
}
# What a new document's editor starts from: the front matter every document needs, and the SOP sections.
NEW_DOCUMENT = """---
id: {doc_id}
title:
doc_type: sop
lob:
intents: []
version: 1.0.0
effective_date: {today}
owner:
locales: [en]
tier: T1
status: active
---

## When this applies

## What to check

## Steps

## Never say or promise

## When to escalate

## Reply templates

### standard [en]
"""


def _done(path: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={code}", status_code=303)


def _text(value: str) -> str:
    """A textarea's value as the file will hold it: browsers send its lines with CRLF."""
    return value.replace("\r\n", "\n")


# The library


def _library_page(request: Request, svc: Services, caller: Caller, status: int = 200, **context: Any) -> HTMLResponse:
    rows = workbench.documents(services=svc)
    _, broken = workbench.folder_library(services=svc)
    if broken is not None:  # listed from the library in force; nothing can be published until the file is fixed
        context.setdefault("error", f"A file of the SOP folder does not load, so nothing can be published: {broken}")
    return render(request, "sop_library.html", caller, status, rows=rows, styles=STYLES, **context)


@router.get("", response_class=HTMLResponse)
def library(request: Request, svc: Svc, caller: SopWriter) -> HTMLResponse:
    return _library_page(request, svc, caller)


@router.post("/ingest", response_class=HTMLResponse)
def ingest_library(request: Request, svc: Svc, caller: SopWriter) -> HTMLResponse:
    """Validate the SOP folder and sync the index; a bad file stops it before any write (pipeline.ingest)."""
    try:
        report = ingest(svc, by=caller.actor)
    except SopError as exc:
        return _library_page(request, svc, caller, status_of(exc), error=f"Nothing was ingested: {exc}")
    return _library_page(request, svc, caller, message=f"Ingested: {report.summary()}.", report=report)


# A document


def _document_page(
    request: Request, svc: Services, caller: Caller, doc_id: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """Raises DocumentNotFound (the app's 404 page)."""
    doc, text = workbench.published(doc_id, services=svc)
    summary = next(d for d in workbench.documents(services=svc) if d.id == doc_id)
    seen: set[str] = set()
    kept = []  # newest first; a version number kept twice (a file edited without a version bump) rolls back once
    for version in reversed(svc.sop_versions.versions(doc_id)):
        kept.append((version, version.version != doc.version and version.version not in seen))
        seen.add(version.version)
    return render(
        request,
        "sop_document.html",
        caller,
        status,
        doc=doc,
        summary=summary,
        page=published_page(doc_id, doc.version, text),
        kept=kept,
        revisions=svc.sop_revisions.of_document(doc_id),
        referrers=workbench.referrers(doc_id, services=svc),
        styles=STYLES,
        **context,
    )


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document(request: Request, doc_id: str, svc: Svc, caller: SopWriter, done: str | None = None) -> HTMLResponse:
    return _document_page(request, svc, caller, doc_id, message=DONE.get(done or ""))


@router.post("/documents/{doc_id}/rollback", response_model=None)
def rollback(
    request: Request, doc_id: str, svc: Svc, caller: SopWriter, version: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    try:
        workbench.rollback(doc_id, version, services=svc, by=caller.actor)
    except (workbench.PublishRefused, workbench.RevisionInvalid, VersionNotFound, SopError) as exc:
        return _document_page(request, svc, caller, doc_id, status_of(exc), error=f"Not rolled back: {exc}")
    return _done(f"/console/sop/documents/{doc_id}", "rolled-back")


@router.post("/documents/{doc_id}/retire", response_model=None)
def retire(
    request: Request, doc_id: str, svc: Svc, caller: SopWriter, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    try:
        workbench.retire(doc_id, services=svc, by=caller.actor, confirm=confirm == "yes")
    except (workbench.RetireNeedsConfirmation, workbench.PublishRefused, workbench.RevisionInvalid, SopError) as exc:
        return _document_page(request, svc, caller, doc_id, status_of(exc), error=f"Not retired: {exc}")
    return _done(f"/console/sop/documents/{doc_id}", "retired")


# The editor


@router.get("/documents/{doc_id}/edit", response_class=HTMLResponse)
def editor(request: Request, doc_id: str, svc: Svc, caller: SopWriter, revision: int | None = None) -> HTMLResponse:
    """The published text (or a draft revision's, to go on with it; or a new document's skeleton) in the editor."""
    if revision is not None:
        draft = svc.sop_revisions.get(revision)
        text = draft.text
    elif doc_id in workbench.folder_library(services=svc)[0].documents:
        _, text = workbench.published(doc_id, services=svc)
    else:
        text = NEW_DOCUMENT.format(doc_id=doc_id, today=dt.date.today().isoformat())
    return _editor_page(request, svc, caller, doc_id, text)


def _editor_page(
    request: Request, svc: Services, caller: Caller, doc_id: str, text: str, status: int = 200, **context: Any
) -> HTMLResponse:
    current = workbench.folder_library(services=svc)[0].documents.get(doc_id)
    return render(
        request,
        "sop_edit.html",
        caller,
        status,
        doc_id=doc_id,
        current=current,
        text=text,
        checked=workbench.check(doc_id, text, services=svc),
        styles=STYLES,
        **context,
    )


@router.post("/documents/{doc_id}/check", response_class=HTMLResponse)
def check(
    request: Request, doc_id: str, svc: Svc, caller: SopWriter, text: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """The editor's live check: the problems of the text as typed, each with its line (htmx swaps them in)."""
    checked: Checked = workbench.check(doc_id, _text(text), services=svc)
    return render(request, "_sop_problems.html", caller, checked=checked)


@router.post("/documents/{doc_id}/revisions", response_model=None)
def save(request: Request, doc_id: str, svc: Svc, caller: SopWriter, text: Annotated[str, Form()] = "") -> Response:
    text = _text(text)
    try:
        revision = workbench.save_revision(doc_id, text, services=svc, by=caller.actor)
    except workbench.RevisionInvalid as exc:
        return _editor_page(
            request, svc, caller, doc_id, text, status_of(exc), error="Not saved: fix the problems listed below."
        )
    return _done(f"/console/sop/revisions/{revision.id}", "saved")


# A draft revision


def show_revision(
    request: Request, svc: Services, caller: Caller, revision: SopRevision, status: int = 200, **context: Any
) -> HTMLResponse:
    found = workbench.diff(revision, services=svc)
    return render(
        request,
        "sop_revision.html",
        caller,
        status,
        revision=revision,
        diff=found,
        lines=diff_lines(found.unified),
        draft=revision.status is RevisionStatus.DRAFT,
        styles=STYLES,
        **context,
    )


@router.get("/revisions/{revision_id}", response_class=HTMLResponse)
def revision_page(
    request: Request, revision_id: int, svc: Svc, caller: SopWriter, done: str | None = None
) -> HTMLResponse:
    return show_revision(request, svc, caller, svc.sop_revisions.get(revision_id), message=DONE.get(done or ""))


@router.post("/revisions/{revision_id}/publish", response_model=None)
def publish(
    request: Request,
    revision_id: int,
    svc: Svc,
    caller: SopWriter,
    override_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    revision = svc.sop_revisions.get(revision_id)
    try:
        done = workbench.publish(revision_id, services=svc, by=caller.actor, override_reason=override_reason)
    except (workbench.PublishRefused, workbench.RevisionInvalid, RevisionNotDraft, SopError) as exc:
        return show_revision(
            request, svc, caller, revision, status_of(exc), error=f"Not published: {exc}", reason=override_reason
        )
    return _done(f"/console/sop/documents/{done.revision.doc_id}", "published")


@router.post("/revisions/{revision_id}/discard", response_model=None)
def discard(request: Request, revision_id: int, svc: Svc, caller: SopWriter) -> Response:
    revision = svc.sop_revisions.get(revision_id)
    try:
        workbench.discard(revision_id, services=svc, by=caller.actor)
    except RevisionNotDraft as exc:
        return show_revision(request, svc, caller, revision, status_of(exc), error=f"Not discarded: {exc}")
    return _done(f"/console/sop/revisions/{revision_id}", "discarded")
