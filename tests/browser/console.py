"""What the console's browser tests share: its people and their tickets, the server they use, signing in
through the form, the offline guard and the screenshots. The fixtures are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from copilot.domain.accounts import Role
from copilot.settings import PROJECT_ROOT
from tests.servers import Server

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "reports" / "console"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery staple"

# The console's people, one per role a person signs in with.
USERS = {
    Role.SPECIALIST: "mila.specialist",
    Role.QA: "quinn.qa",
    Role.SOP_WRITER: "sol.writer",
    Role.ADMIN: "ada.admin",
}

# Tickets as creators wrote them, by the part each plays; every test decides only its own ticket.
PAYOUT = "I requested a withdrawal of my Creator Rewards earnings {} and it still hasn't arrived. Where is it?"
PII_SECRETS = ("Winter2026!!", "4111 1111 1111 1111")  # removed before the ticket is kept: never shown again
PII_CONTACT = "mila.bakes@example.com"  # kept for the agent, masked until an audited reveal
TICKETS = {
    "escalated": "I don't want to live anymore. Nobody watches my videos and I just want to end it all tonight.",
    "ordinary": PAYOUT.format("three days ago"),
    "citing": PAYOUT.format("last Monday"),
    "to-edit": PAYOUT.format("a week ago"),
    "to-approve": PAYOUT.format("on the 3rd"),
    "to-reject": PAYOUT.format("two weeks ago"),
    "to-relabel": PAYOUT.format("yesterday"),
    "pii": "I can't log in, my password is Winter2026!! and my card 4111 1111 1111 1111 was charged twice. "
    f"Write to {PII_CONTACT}",
    "feedback": "Just some feedback: it would be lovely if the creator studio had a dark mode. Keep up the good work!",
}


@dataclass(frozen=True)
class Seeded:
    """A ticket sent to the server, with the draft it got back (the API's JSON)."""

    ticket_id: str
    draft: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/console/tickets/{self.ticket_id}"


@dataclass
class Console:
    server: Server
    sop_dir: Path  # the server's own SOP folder
    tickets: dict[str, Seeded] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to the server's API as its admin key."""
        return httpx.request(method, f"{self.server.base}{path}", headers=self.server.headers, timeout=120, **kwargs)

    def url(self, path: str) -> str:
        return f"{self.server.base}{path}"


@dataclass
class Offline:
    """Every request a page made: those to this machine were let through, any other was refused."""

    loaded: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            self.loaded.append(url)
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


# Where signing in lands: the queue, except for those whose navigation does not offer it.
LANDING = {Role.SOP_WRITER: "/console/sop"}


def sign_in(page: Page, console: Console, role: Role, *, then: str = "/console") -> None:
    """Sign in through the sign-in form as the user of that role, and open `then`."""
    page.goto(console.url("/console/login"))
    page.locator("input[name=username]").fill(USERS[role])
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(console.url(LANDING.get(role, "/console")))
    if then != "/console":
        page.goto(console.url(then))


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot into reports/console/, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
