"""The limits' parts on their own: the token buckets with a clock the test moves, and the body limit as ASGI
middleware in front of an app that reads the whole body, fed a body in chunks."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.types import Message, Receive, Scope, Send

from api.body_limit import BodyLimit
from api.rate_limits import RateLimited, TokenBuckets

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_of_its_rate_then_one_request_per_refill() -> None:
    clock = Clock()
    buckets = TokenBuckets(3, what="from this caller", clock=clock)
    for _ in range(3):
        buckets.take("key:helpdesk")
    with pytest.raises(RateLimited) as limited:
        buckets.take("key:helpdesk")
    assert limited.value.retry_after_s == 20  # 3 a minute: one back every 20 s
    assert "the limit is 3 a minute" in str(limited.value)
    buckets.take("maria")  # another principal has its own bucket
    clock.now += 19
    with pytest.raises(RateLimited) as limited:
        buckets.take("key:helpdesk")
    assert limited.value.retry_after_s == 1
    clock.now += 1
    buckets.take("key:helpdesk")


def test_an_idle_bucket_refills_to_its_rate_and_no_further() -> None:
    clock = Clock()
    buckets = TokenBuckets(2, what="from this address", clock=clock)
    buckets.take("10.0.0.1")
    clock.now += 3600
    buckets.take("10.0.0.1")
    buckets.take("10.0.0.1")
    with pytest.raises(RateLimited):
        buckets.take("10.0.0.1")


def test_a_rate_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="per_minute must be >= 1, got 0"):
        TokenBuckets(0, what="from this caller")


class Recorder:
    """An ASGI app that reads the whole body, as a route parsing JSON does, then answers 200 with its length."""

    def __init__(self) -> None:
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        more = True
        while more:
            message = await receive()
            self.read += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(self.read).encode()})


def call(app: BodyLimit, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, str, int]:
    """Send the chunks through the middleware; returns the status, the body and how many chunks were taken."""
    scope: Scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    taken = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode(), taken


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read() -> None:
    inner = Recorder()
    app = BodyLimit(inner, max_body_bytes=1024, max_upload_bytes=4096)
    status, body, taken = call(app, "/v1/triage", [b"x" * 2000], [(b"content-length", b"2000")])
    assert (status, taken, inner.read) == (413, 0, 0)
    assert json.loads(body) == {"detail": "the request body is larger than the limit of 1024 bytes (max_body_bytes)"}


def test_a_chunked_body_is_refused_at_the_chunk_that_passes_the_limit() -> None:
    inner = Recorder()
    app = BodyLimit(inner, max_body_bytes=1024, max_upload_bytes=4096)
    status, body, taken = call(app, "/v1/triage", [b"x" * 400] * 100, [])
    assert status == 413 and "max_body_bytes" in body
    assert taken == 3  # 1,200 bytes: the other 97 chunks are never read


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    status, body, _ = call(
        BodyLimit(Recorder(), max_body_bytes=1024, max_upload_bytes=4096), "/v1/x", [b"x" * 500] * 2, []
    )
    assert (status, body) == (200, "1000")


def test_a_backlog_upload_is_held_to_the_upload_limit() -> None:
    app = BodyLimit(Recorder(), max_body_bytes=1024, max_upload_bytes=4096)
    assert call(app, "/v1/triage/jobs", [b"x" * 3000], [(b"content-length", b"3000")])[:2] == (200, "3000")
    status, body, _ = call(app, "/v1/triage/jobs", [b"x" * 3000] * 2, [])
    assert status == 413 and "4096 bytes (max_upload_bytes)" in body
