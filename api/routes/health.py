"""Liveness and what the service is running with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import services
from api.schemas import Health
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health, summary="Health")
def health(svc: Annotated[Services, Depends(services)]) -> Health:
    return Health(
        status="ok",
        documents=len(svc.library.active()),
        chunks=svc.index.count(),
        triage_model=svc.require_classifier().version,
        embedder=svc.embedder_version,
        writer=svc.writer.version,
    )
