"""Prometheus metrics of the service (of every worker when several serve), for an admin or a scraper's service
key (`authorization: Bearer cpk_...` in Prometheus' scrape config)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import metrics, services
from api.metrics import Metrics
from api.security import allow
from copilot.domain.accounts import Role
from copilot.services import Services

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    summary="Prometheus metrics",
    dependencies=[Depends(allow(Role.ADMIN, Role.SERVICE))],
)
def prometheus_metrics(
    svc: Annotated[Services, Depends(services)], meter: Annotated[Metrics, Depends(metrics)]
) -> Response:
    """Requests, triage results, suggestions, decisions, LLM-writer fallbacks, index size and versions."""
    body, content_type = meter.exposition(svc)
    return Response(content=body, media_type=content_type)
