"""The console in a real Chromium against the real app in its own uvicorn process.

One server per module: a copy of the session's data and of the SOP folder (a test may change the SOPs), the
four console users made in its database before it starts, the SOP versions published by an ingest through
the API, and tickets sent to /v1/suggest as a helpdesk integration would. Every page refuses requests to any
host but this machine, and a test fails if one was attempted: the console must work offline.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.browser.console import CHROMIUM, PASSWORD, TICKETS, USERS, VIEWPORT, Console, Offline, Seeded
from tests.servers import OPERATOR, Servers, accounts_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is missing at {CHROMIUM}: install it with `apt-get install chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is missing: install the dev extra (`pip install 'playwright>=1.45'`)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def console(
    browser: Browser, ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    """The app served over its own data, with the people and tickets the tests use. (`browser` comes first so
    that a machine without Chromium skips before anything is built.)"""
    root = tmp_path_factory.mktemp("console")
    sop_dir = root / "sop"
    shutil.copytree(ready.settings.sop_dir, sop_dir)
    servers = Servers(ready, embeddings, root, sop_dir=sop_dir)
    with accounts_in(servers.database_url) as accounts:
        for role, name in USERS.items():
            accounts.add_user(name, role, PASSWORD, by=OPERATOR)
    try:
        server = servers()
        server.wait_until_up()
        console = Console(server, sop_dir)
        # The server's database is new: publishing the SOPs keeps the versions that citations link to.
        assert console.api("POST", "/v1/kb/ingest").status_code == 200
        for index, (name, text) in enumerate(TICKETS.items()):
            answer = console.api("POST", "/v1/suggest", json={"text": text, "helpdesk_id": f"HD-{index + 100}"})
            assert answer.status_code == 201, answer.text
            console.tickets[name] = Seeded(answer.json()["ticket_id"], answer.json())
        yield console
    finally:
        servers.stop()


@pytest.fixture
def offline() -> Offline:
    return Offline()


@pytest.fixture
def new_page(browser: Browser, offline: Offline) -> Iterator[Callable[[], Page]]:
    """Opens pages, each in a browser context of its own (its own cookies: one person per page), that refuse
    every request to another host; after the test, none may have been attempted."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.route("**/*", offline.route)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert offline.outside == [], f"the console asked other hosts for {offline.outside}"
