"""Accounts and API keys (admins only), and who the caller is (anyone signed in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import services
from api.schemas import AUTH_ERRORS, CreatedKey, ErrorBody, NewKey, NewUser
from api.security import EVERYONE, Caller, allow
from copilot.domain.accounts import Actor, ApiKey, Role, User
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["accounts"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
Admin = Annotated[Caller, Depends(allow(Role.ADMIN))]
ADMINS = [Depends(allow(Role.ADMIN))]
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorBody}}


@router.get("/me", response_model=Actor, summary="Who is calling")
def me(caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> Actor:
    return caller.actor


@router.get("/users", response_model=list[User], summary="Accounts", dependencies=ADMINS)
def list_users(svc: Svc) -> list[User]:
    return svc.accounts.users()


@router.post(
    "/users",
    response_model=User,
    status_code=201,
    responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Add an account",
)
def add_user(body: NewUser, svc: Svc, caller: Admin) -> User:
    return svc.accounts.add_user(body.name, body.role, body.password, by=caller.actor)


@router.post("/users/{name}/disable", response_model=User, responses=NOT_FOUND, summary="Disable an account")
def disable_user(name: str, svc: Svc, caller: Admin) -> User:
    """The account can no longer sign in; its open sessions end at once."""
    return svc.accounts.disable_user(name, by=caller.actor)


@router.get("/keys", response_model=list[ApiKey], summary="API keys", dependencies=ADMINS)
def list_keys(svc: Svc) -> list[ApiKey]:
    return svc.accounts.keys()


@router.post("/keys", response_model=CreatedKey, status_code=201, summary="Create an API key")
def create_key(body: NewKey, svc: Svc, caller: Admin) -> CreatedKey:
    """The secret is in this answer only; the copilot keeps its hash."""
    key, secret = svc.accounts.create_key(body.name, body.role, by=caller.actor)
    return CreatedKey(key=key, secret=secret)


@router.post(
    "/keys/{key_id}/revoke",
    response_model=ApiKey,
    responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "The key is revoked already."}},
    summary="Revoke an API key",
)
def revoke_key(key_id: str, svc: Svc, caller: Admin) -> ApiKey:
    return svc.accounts.revoke_key(key_id, by=caller.actor)
