"""Liveness, readiness, and what the service is running with.

`/v1/health/live` answers as long as the process does (a supervisor restarts it when it stops);
`/v1/health/ready` answers 200 only when a request could be served (a load balancer sends traffic then);
`/v1/health` describes the running service and is unchanged.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import services
from api.schemas import ErrorBody, Health, Liveness, Readiness
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["health"])
logger = logging.getLogger(__name__)


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": ErrorBody, "description": "No triage model is loaded."}},
    summary="Health",
)
def health(svc: Annotated[Services, Depends(services)]) -> Health:
    return Health(
        status="ok",
        documents=len(svc.library.active()),
        chunks=svc.index.count(),
        triage_model=svc.require_classifier().version,
        embedder=svc.embedder_version,
        writer=svc.writer.version,
    )


@router.get("/health/live", response_model=Liveness, summary="Liveness")
def live() -> Liveness:
    """200 while the process runs; touches no index, model or database."""
    return Liveness(status="alive")


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready; `reasons` says why."}},
    summary="Readiness",
)
def ready(svc: Annotated[Services, Depends(services)]) -> JSONResponse:
    """200 when the index holds passages, a triage model is loaded and the database answers; else 503
    naming each reason."""
    reasons = not_ready_reasons(svc)
    body = Readiness(ready=not reasons, reasons=reasons)
    return JSONResponse(status_code=503 if reasons else 200, content=body.model_dump())


def not_ready_reasons(svc: Services) -> list[str]:
    """One line for each thing that stops the service from drafting; empty when nothing does."""
    reasons = []
    try:
        if svc.index.count() == 0:
            reasons.append("the knowledge base is empty; run `copilot kb ingest`")
    except Exception as exc:  # a Chroma server that is down raises its client's own errors
        logger.warning("readiness: the knowledge base cannot be read: %s", exc)
        reasons.append(f"the knowledge base cannot be read ({type(exc).__name__})")
    if svc.classifier is None:
        reasons.append("no triage model is loaded; run `copilot triage train`")
    try:
        svc.store.ping()
    except SQLAlchemyError as exc:
        logger.warning("readiness: the database does not answer: %s", exc)
        reasons.append(f"the database does not answer ({type(exc).__name__})")
    return reasons
