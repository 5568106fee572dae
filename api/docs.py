"""The API's docs page (Swagger UI) served from an installed package, so that it works with no internet.

FastAPI's default /docs and /redoc load their scripts from a CDN. Swagger UI's files come from the
`swagger-ui-bundle-v2` wheel (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes); there is
no ReDoc page, since no installed package ships its script.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from api.security import EVERYONE, allow

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
ASSETS_URL = "/docs/assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def add_docs(app: FastAPI) -> None:
    """/docs and /openapi.json for any signed-in caller, Swagger UI's assets under /docs/assets, and the
    OAuth2 redirect page Swagger UI expects.

    The app must be built with `docs_url=None, redoc_url=None, openapi_url=None` (FastAPI's CDN pages and its
    open schema route off)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")
    signed_in = [Depends(allow(*EVERYONE))]

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=signed_in)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(DOCS_URL, include_in_schema=False, dependencies=signed_in)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # behind a proxy that mounts the app on a prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{app.title} - docs",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False, dependencies=signed_in)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
