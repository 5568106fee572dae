"""The errors FastAPI and Starlette raise themselves, answered in the API's one error shape (api/schemas.py
ErrorBody): a request that does not fit the schema, a body that is not JSON, a path no route serves, a method a
path does not take.

FastAPI's own answer to an invalid request lists its problems under `detail`, where every other error of the API
has a sentence; clients would have to handle both. Here `detail` is always a sentence naming the first problem,
and the list moves to `errors`, without the values sent (a ticket's text is personal data, a password a secret).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from api.schemas import ErrorBody, FieldProblem


def add_request_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """422 naming the first problem and listing all; 400 when the body is not JSON at all (nothing to validate)."""
    problems = [
        FieldProblem(loc=list(error.get("loc", ())), msg=str(error.get("msg", "")), type=str(error.get("type", "")))
        for error in exc.errors()
    ]
    malformed = next((p for p in problems if p.type == "json_invalid"), None)
    if malformed is not None:
        reason = next((e.get("ctx", {}).get("error") for e in exc.errors() if e.get("type") == "json_invalid"), None)
        where = malformed.loc[-1] if len(malformed.loc) > 1 else 0
        body = ErrorBody(detail=f"the body is not valid JSON: {reason or 'cannot be parsed'} at position {where}")
        return _json(400, body)
    return _json(422, ErrorBody(detail=_sentence(problems), errors=problems))


def _sentence(problems: list[FieldProblem]) -> str:
    if not problems:
        return "the request is invalid"
    first = problems[0]
    where = ".".join(str(part) for part in first.loc) or "request"
    sentence = f"{where}: {first.msg.removeprefix('Value error, ')}"
    more = len(problems) - 1
    return sentence + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """The HTTPException's detail as ErrorBody; a 405's Allow header names every method the path takes."""
    headers = dict(exc.headers or {})
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=headers)
    if exc.status_code == 405:
        # Starlette's Allow comes from the first route whose path matched; GET /v1/keys and POST /v1/keys are two
        # routes, so it would leave POST out.
        headers["Allow"] = ", ".join(sorted(_methods_of(request.app, request.url.path)))
    return _json(exc.status_code, ErrorBody(detail=str(exc.detail)), headers)


def _methods_of(app: FastAPI, path: str) -> set[str]:
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        template = route.path
        if template and route.methods and _pattern(template).match(path):
            methods |= route.methods
    return methods


def _pattern(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True), headers=headers)
