"""The console's templates (Jinja2, autoescaped) and what every page is rendered with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import HTMLResponse

from api.security import Caller
from copilot.domain.accounts import Role

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

QUEUE = "/console"
# The console's sections, and who sees each in the navigation (the routes check the same roles).
NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ("Queue", QUEUE, frozenset({Role.SPECIALIST, Role.QA, Role.ADMIN})),
    ("New ticket", "/console/tickets/new", frozenset({Role.SPECIALIST, Role.ADMIN})),
    ("SOP library", "/console/sop", frozenset({Role.SOP_WRITER, Role.ADMIN})),
    ("Library health", "/console/sop/coverage", frozenset({Role.SOP_WRITER, Role.ADMIN, Role.QA})),
    ("Audit log", "/console/audit", frozenset({Role.QA, Role.ADMIN})),
    ("Accounts", "/console/admin", frozenset({Role.ADMIN})),
]


def time_left(due: dt.datetime, now: dt.datetime | None = None) -> str:
    """'3 h 20 min left' or '45 min overdue': the SLA clock as a specialist reads it."""
    seconds = int((due - (now or dt.datetime.now(dt.UTC))).total_seconds())
    minutes = abs(seconds) // 60
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} overdue"


# SOP text is Markdown written by the team: rendered for reading, with raw HTML in it shown as text, never run.
_markdown = MarkdownIt("commonmark", {"html": False})


def markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))


templates.env.filters["time_left"] = time_left
templates.env.filters["markdown"] = markdown


def render(
    request: Request, template: str, caller: Caller | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    role = caller.actor.role if caller else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "caller": caller,
            "csrf_token": caller.session.csrf_token if caller and caller.session else "",
            "navigation": [(label, href) for label, href, roles in NAVIGATION if role in roles],
            **context,
        },
        status_code=status_code,
    )
