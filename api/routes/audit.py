"""The audit log, for admins and QA."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import services
from api.schemas import AUTH_ERRORS
from api.security import allow
from copilot.domain.accounts import Role
from copilot.domain.records import AuditAction, AuditEntry
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["audit"], responses=AUTH_ERRORS)


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    summary="The audit log",
    dependencies=[Depends(allow(Role.ADMIN, Role.QA))],
)
def audit_log(
    svc: Annotated[Services, Depends(services)],
    action: AuditAction | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=100)] = None,
    before_id: Annotated[int | None, Query(ge=1, description="Page back: entries older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Every write (and every reveal of masked text): who, when, what and from where, newest first."""
    return svc.audit.entries(action=action, actor=actor, target=target, before_id=before_id, limit=limit)
