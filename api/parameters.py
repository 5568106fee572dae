"""Every path parameter, query parameter and form field of every route is held to copilot/domain/text.py's rule
before the route runs, so an id, a filter or a console form never carries a control character to a store (a
NUL makes PostgreSQL fail where SQLite would keep it). JSON bodies are held to it by their models' types.

The app installs `refuse_control_characters` as a dependency of every route: a route added later is covered
without doing anything. A refused value is ControlCharacters, which the app answers with 422 naming the
parameter (the console with its error page).
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from copilot.domain.text import ControlCharacters, control_character


async def refuse_control_characters(request: Request) -> None:
    """Raises ControlCharacters naming the first path parameter, query parameter or form field that holds a
    refused character. Path parameters are ids and names: one line. Queries and forms may hold text (a search,
    a ticket, a note), whose tabs and line breaks are kept."""
    for name, value in request.path_params.items():
        _check(f"path parameter {name}", str(value), one_line=True)
    for name, value in request.query_params.multi_items():
        _check(f"query parameter {name}", value, one_line=False)
    if request.method in ("POST", "PUT", "PATCH") and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # The route's own form parsing has run already (FastAPI reads the body before the dependencies), and
        # Starlette keeps the parsed form, so this reads nothing twice.
        for name, field in (await request.form()).multi_items():
            if isinstance(field, UploadFile):
                _check(f"file name of {name}", field.filename or "", one_line=True)
            else:
                _check(f"form field {name}", field, one_line=False)


def _check(what: str, value: str, *, one_line: bool) -> None:
    if problem := control_character(value, one_line=one_line):
        raise ControlCharacters(f"{what}: {problem}")
