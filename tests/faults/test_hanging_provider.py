"""A chat-model provider that accepts the connection and never answers: the LLM writer gives up at its timeout
and the template writer drafts the reply, the draft saying so."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import Servers

pytestmark = pytest.mark.integration

PAYOUT = "my withdrawal from oct 3 still has not arrived"
TIMEOUT_S = 3  # the writer's timeout setting: short, so the test does not wait the default 20 s


@pytest.fixture
def hanging_provider() -> Iterator[tuple[str, list[socket.socket]]]:
    """An HTTP address that accepts connections, reads nothing and answers nothing; the connections it took."""
    listener = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed at the end of the test
                return
            taken.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", taken
    listener.close()
    for connection in taken:
        connection.close()


def test_a_provider_that_hangs_falls_back_to_the_template_writer(
    servers: Servers, hanging_provider: tuple[str, list[socket.socket]]
) -> None:
    url, taken = hanging_provider
    server = servers(
        COPILOT_WRITER="openai",
        COPILOT_OPENAI_BASE_URL=url,
        COPILOT_OPENAI_API_KEY="sk-test-not-a-real-key",
        COPILOT_OPENAI_TIMEOUT_S=str(TIMEOUT_S),
    )
    server.wait_until_up()
    made = httpx.post(f"{server.base}/v1/suggest", json={"text": PAYOUT}, headers=server.headers, timeout=120)

    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["action"] == "reply" and draft["reply"]
    assert draft["writer"] == "template"
    [said] = [w for w in draft["warnings"] if w.startswith("the chat model failed (")]
    assert said.endswith("TimeoutError); the template writer drafted this reply"), said
    assert taken, "the writer never called the provider"
    assert re.search(r"LLM writer fell back to the template writer: \w*TimeoutError", server.log.read_text())
