"""The web console, served by the API under /console: server-rendered pages, htmx, and assets from this package."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import admin, sign_in, work
from api.console.templating import HERE

STATIC_URL = "/console/static"


def add_console(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=str(HERE / "static")), name="console-static")
    for router in (sign_in.router, work.router, admin.router):
        app.include_router(router)
