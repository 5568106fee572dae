"""The docs page works offline: Swagger UI comes from the service itself, and the browser asks nothing of
any other host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from copilot.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT_ROOT / "reports" / "console" / "docs.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.mark.integration
def test_the_docs_page_and_its_assets_come_from_the_service(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "/docs/assets/swagger-ui.css" in page
    assert "https://" not in page and "http://" not in page
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/redoc").status_code == 404, "ReDoc would load its script from a CDN"


@pytest.mark.browser
def test_the_docs_page_lists_the_endpoints_with_every_outside_request_refused(
    start_server: Callable[..., Any],
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is missing at {CHROMIUM}: install it with `apt-get install chromium`")
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        pytest.skip("playwright is missing: install the dev extra (`pip install 'playwright>=1.45'`)")
    server = start_server()
    server.wait_until_up()
    outside: list[str] = []
    loaded: list[str] = []

    def only_this_machine(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            loaded.append(url)
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            # A signed-in caller: the docs and the schema are for those who may call the API.
            page = browser.new_page(viewport={"width": 1280, "height": 900}, extra_http_headers=server.headers)
            page.route("**/*", only_this_machine)
            page.goto(f"{server.base}/docs")
            suggest = page.locator('.opblock-summary-path[data-path="/v1/suggest"]')
            suggest.wait_for(state="visible", timeout=30_000)
            assert page.get_by_text("Suggest a reply", exact=True).is_visible()
            assert page.locator('.opblock-summary-path[data-path="/v1/drafts/{draft_id}/decision"]').is_visible()
            assert page.get_by_text("Support copilot", exact=False).first.is_visible()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert outside == []
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in loaded)
    assert any(url.endswith("/openapi.json") for url in loaded)
