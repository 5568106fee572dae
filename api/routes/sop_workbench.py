"""The SOP writers' workbench over HTTP: list and open documents, check a text as it is typed, save draft
revisions, diff, publish, discard, roll back and retire (copilot/workbench/revisions.py does the work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import services
from api.schemas import (
    AUTH_ERRORS,
    CheckIn,
    CheckResult,
    DiffOut,
    DiffRowOut,
    DocumentOut,
    ErrorBody,
    IngestResult,
    KeptVersion,
    ProblemOut,
    PublishIn,
    PublishResult,
    ReferrerOut,
    RetireIn,
    RetireResult,
    RevisionIn,
    RollbackIn,
)
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.domain.revisions import SopRevision
from copilot.services import Services
from copilot.workbench import revisions as workbench
from knowledge_base.checking import Checked, Problem

router = APIRouter(prefix="/v1/kb", tags=["SOP workbench"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
Writer = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]
READERS = [Depends(allow(Role.SOP_WRITER, Role.QA, Role.ADMIN))]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": ErrorBody}}
CONFLICT: Responses = {409: {"model": ErrorBody}}
INVALID: Responses = {
    422: {"model": ErrorBody, "description": "The text does not check: `problems` lists field and line."}
}


@router.get(
    "/documents", response_model=list[workbench.DocumentSummary], summary="The SOP library", dependencies=READERS
)
def list_documents(svc: Svc) -> list[workbench.DocumentSummary]:
    """Every document with its version, owner, status, effective date, last review, kept versions and open drafts."""
    return workbench.documents(services=svc)


@router.get(
    "/documents/{doc_id}",
    response_model=DocumentOut,
    responses=NOT_FOUND,
    summary="A document: its published text, kept versions and revisions",
    dependencies=READERS,
)
def get_document(doc_id: str, svc: Svc) -> DocumentOut:
    _, text = workbench.published(doc_id, services=svc)
    summary = next(d for d in workbench.documents(services=svc) if d.id == doc_id)
    return DocumentOut(
        document=summary,
        text=text,
        versions=[KeptVersion(**v.model_dump()) for v in svc.sop_versions.versions(doc_id)],
        revisions=svc.sop_revisions.of_document(doc_id),
    )


@router.post(
    "/check", response_model=CheckResult, summary="Check a document's text as it is typed", dependencies=READERS
)
def check_text(body: CheckIn, svc: Svc) -> CheckResult:
    """The problems that stop the text being saved (each with field and line) and the warnings; changes nothing."""
    return _check_result(workbench.check(body.doc_id, body.text, services=svc))


@router.post(
    "/documents/{doc_id}/revisions",
    response_model=SopRevision,
    status_code=201,
    responses={**INVALID},
    summary="Save a draft revision",
)
def save_revision(doc_id: str, body: RevisionIn, svc: Svc, caller: Writer) -> SopRevision | JSONResponse:
    """Keep the text as a draft revision of the document (a new document when the library has none): the copilot
    does not use it until it is published."""
    try:
        return workbench.save_revision(doc_id, body.text, services=svc, by=caller.actor)
    except workbench.RevisionInvalid as exc:
        return _invalid(exc)


@router.get(
    "/revisions/{revision_id}",
    response_model=SopRevision,
    responses=NOT_FOUND,
    summary="A revision",
    dependencies=READERS,
)
def get_revision(revision_id: int, svc: Svc) -> SopRevision:
    return svc.sop_revisions.get(revision_id)


@router.get(
    "/revisions/{revision_id}/diff",
    response_model=DiffOut,
    responses=NOT_FOUND,
    summary="A revision against the published document",
    dependencies=READERS,
)
def revision_diff(revision_id: int, svc: Svc) -> DiffOut:
    found = workbench.diff(svc.sop_revisions.get(revision_id), services=svc)
    return DiffOut(
        revision_id=revision_id,
        doc_id=found.doc_id,
        published_version=found.published_version,
        revision_version=found.revision_version,
        unified=found.unified,
        rows=[DiffRowOut(**asdict(row)) for row in found.rows],
    )


@router.post(
    "/revisions/{revision_id}/publish",
    response_model=PublishResult,
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    summary="Publish a draft revision",
)
def publish(revision_id: int, svc: Svc, caller: Writer, body: PublishIn | None = None) -> PublishResult | JSONResponse:
    """Write the file and ingest it. 409 when the version is not above the published one, or the impact preview
    has not passed and no `override_reason` is given (the audit log keeps it)."""
    reason = body.override_reason if body else None
    try:
        done = workbench.publish(revision_id, services=svc, by=caller.actor, override_reason=reason)
    except workbench.RevisionInvalid as exc:
        return _invalid(exc)
    return _published(done, svc)


@router.post(
    "/revisions/{revision_id}/discard",
    response_model=SopRevision,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Discard a draft revision",
)
def discard(revision_id: int, svc: Svc, caller: Writer) -> SopRevision:
    return workbench.discard(revision_id, services=svc, by=caller.actor)


@router.post(
    "/documents/{doc_id}/rollback",
    response_model=PublishResult,
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    summary="Publish an earlier version again",
)
def rollback(doc_id: str, body: RollbackIn, svc: Svc, caller: Writer) -> PublishResult | JSONResponse:
    """The kept text of `version`, published as the next patch version above the one in force."""
    try:
        done = workbench.rollback(doc_id, body.version, services=svc, by=caller.actor)
    except workbench.RevisionInvalid as exc:
        return _invalid(exc)
    return _published(done, svc)


@router.post(
    "/documents/{doc_id}/retire",
    response_model=RetireResult,
    responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "Retired already, or `referrers` to confirm."}},
    summary="Retire a document",
)
def retire(doc_id: str, svc: Svc, caller: Writer, body: RetireIn | None = None) -> RetireResult | JSONResponse:
    """Set its status to retired under a new version and publish it. When active documents refer to it, the
    answer is 409 listing them in `referrers` until the call says `confirm: true`."""
    try:
        done = workbench.retire(doc_id, services=svc, by=caller.actor, confirm=bool(body and body.confirm))
    except workbench.RetireNeedsConfirmation as exc:
        return JSONResponse(
            status_code=409, content={"detail": str(exc), "referrers": [asdict(r) for r in exc.referrers]}
        )
    return RetireResult(
        referrers=[ReferrerOut(**asdict(r)) for r in done.referrers], published=_published(done.published, svc)
    )


def _problem(problem: Problem) -> ProblemOut:
    return ProblemOut(**asdict(problem))


def _check_result(checked: Checked) -> CheckResult:
    return CheckResult(
        ok=checked.ok,
        problems=[_problem(p) for p in checked.problems],
        warnings=[_problem(p) for p in checked.warnings],
    )


def _invalid(exc: workbench.RevisionInvalid) -> JSONResponse:
    problems = [_problem(p).model_dump() for p in exc.problems]
    return JSONResponse(status_code=422, content={"detail": str(exc), "problems": problems})


def _published(done: workbench.Published, svc: Services) -> PublishResult:
    return PublishResult(
        revision=done.revision,
        version=done.version,
        previous_version=done.previous_version,
        ingest=IngestResult(**vars(done.report), documents_indexed=len(svc.library.active())),
    )
