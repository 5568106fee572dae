"""The web console, served by the API under /console: server-rendered pages, htmx, and assets from this package."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import admin, impact, library_health, sign_in, sop_workbench, work
from api.console.templating import HERE

STATIC_URL = "/console/static"


def add_console(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=str(HERE / "static")), name="console-static")
    # library_health before sop_workbench: its fixed pages (/console/sop/coverage ...) before /console/sop/{doc_id}.
    routers = (sign_in.router, work.router, admin.router, library_health.router, sop_workbench.router, impact.router)
    for router in routers:
        app.include_router(router)
