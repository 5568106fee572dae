"""Search the SOP knowledge base; re-ingest the SOP folder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import services
from api.schemas import AUTH_ERRORS, ErrorBody, IngestResult, SearchResult
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.domain.sop import PublishedVersion
from copilot.domain.text import NotBlank
from copilot.pipeline import ingest, search_knowledge_base
from copilot.services import Services

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
LIBRARY_READERS = [Depends(allow(Role.SPECIALIST, Role.SOP_WRITER, Role.QA, Role.ADMIN))]


@router.get(
    "/search",
    response_model=SearchResult,
    responses={422: {"model": ErrorBody}},
    summary="Search SOPs",
    dependencies=LIBRARY_READERS,
)
def search(
    svc: Svc,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for."), NotBlank],
    k: Annotated[int, Query(ge=1, le=50, description="How many passages.")] = 5,
    lob: Annotated[str | None, Query(description="Only this LOB (and cross-LOB policies).")] = None,
) -> SearchResult:
    return SearchResult(query=q, passages=search_knowledge_base(q, services=svc, k=k, lob=lob))


@router.post("/ingest", response_model=IngestResult, responses={422: {"model": ErrorBody}}, summary="Re-ingest SOPs")
def ingest_endpoint(svc: Svc, caller: Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]) -> IngestResult:
    """Validate the SOP folder and sync the index. A bad file fails the whole ingest and changes nothing."""
    report = ingest(svc, by=caller.actor)
    return IngestResult(**vars(report), documents_indexed=len(svc.library.active()))


@router.get(
    "/documents/{doc_id}/versions/{version}",
    response_model=PublishedVersion,
    responses={404: {"model": ErrorBody}},
    summary="A document as published at a version",
    dependencies=LIBRARY_READERS,
)
def document_version(doc_id: str, version: str, svc: Svc) -> PublishedVersion:
    """The full Markdown of a document at the version a citation names, kept after later edits."""
    return svc.sop_versions.get(doc_id, version)
