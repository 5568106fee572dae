"""Search the SOP knowledge base; re-ingest the SOP folder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import services
from api.schemas import ErrorBody, IngestResult, SearchResult
from copilot.pipeline import ingest, search_knowledge_base
from copilot.services import Services

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
Svc = Annotated[Services, Depends(services)]


@router.get("/search", response_model=SearchResult, responses={422: {"model": ErrorBody}}, summary="Search SOPs")
def search(
    svc: Svc,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=50, description="How many passages.")] = 5,
    lob: Annotated[str | None, Query(description="Only this LOB (and cross-LOB policies).")] = None,
) -> SearchResult:
    return SearchResult(query=q, passages=search_knowledge_base(q, services=svc, k=k, lob=lob))


@router.post("/ingest", response_model=IngestResult, responses={422: {"model": ErrorBody}}, summary="Re-ingest SOPs")
def ingest_endpoint(svc: Svc) -> IngestResult:
    """Validate the SOP folder and sync the index. A bad file fails the whole ingest and changes nothing."""
    report = ingest(svc)
    return IngestResult(**vars(report), documents_indexed=len(svc.library.active()))
