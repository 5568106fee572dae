"""The server's log as uvicorn's own command line runs the app (its access log on by default): each request is
one line with its route template, never its query string, so a search's words or a filter's values (a ticket's
words, a person's name) stay out of the log."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import Servers

pytestmark = pytest.mark.integration

QUERY_WORDS = "zebra-payout-from-mila"


def test_query_strings_never_reach_the_server_log(start_server: Servers) -> None:
    server = start_server()
    server.wait_until_up()
    search = httpx.get(f"{server.base}/v1/kb/search", params={"q": QUERY_WORDS, "k": 1}, headers=server.headers)
    assert search.status_code == 200, search.text
    queue = httpx.get(f"{server.base}/v1/tickets", params={"lob": f"x-{QUERY_WORDS}"}, headers=server.headers)
    assert queue.status_code in (200, 422), queue.text
    login = httpx.get(f"{server.base}/console/login", params={"next": f"/console/{QUERY_WORDS}"})
    assert login.status_code == 200
    server.process.terminate()
    server.process.wait(timeout=60)

    log = server.log.read_text()
    assert "GET /v1/kb/search 200" in log  # the request was logged, by its route template
    assert "GET /console/login 200" in log
    assert QUERY_WORDS not in log
    assert "?" not in "".join(line for line in log.splitlines() if " GET " in line)
