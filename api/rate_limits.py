"""Rate limits: per client address (an ASGI middleware, before anything is read) and per principal (an API key
or a signed-in person, checked where api/security.py identifies the caller). Both answer 429 with Retry-After.

Each limit is a token bucket per key, held in this process: a key may spend `per_minute` requests at once, and
gets them back at `per_minute / 60` a second. With several worker processes each counts on its own, so a caller
may make up to N times the limit across N workers; that bounds the load a caller puts on each worker, which is
what the limit is for, without a shared store to consult on every request.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

# Probes and the console's scripts and styles: a load balancer polls health every few seconds, and a page's
# assets are not work the limit guards.
EXEMPT_PREFIXES = ("/v1/health", "/console/static", "/docs/assets")
MAX_KEYS = 100_000  # buckets kept before full (idle) ones are dropped, so many addresses cannot grow memory


class RateLimited(Exception):
    """Too many requests from one principal or address (HTTP 429, with Retry-After in seconds)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TokenBuckets:
    """One token bucket per key, `per_minute` tokens deep, refilled at `per_minute / 60` a second."""

    def __init__(self, per_minute: int, *, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {per_minute}")
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self.what = what
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key: (tokens, when counted)
        self._lock = threading.Lock()  # routes run in a thread pool; the middleware on the event loop

    def take(self, key: str) -> None:
        """Spend one of the key's tokens; raises RateLimited with the seconds until one is back."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.refill_per_s)
                raise RateLimited(
                    f"too many requests {self.what}: the limit is {int(self.capacity)} a minute; try again in {wait} s",
                    retry_after_s=wait,
                )
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_KEYS:
                self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: forgetting them changes nothing."""
        for key, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.refill_per_s >= self.capacity:
                del self._buckets[key]


class AddressRateLimit:
    """ASGI middleware: refuses a client address's requests beyond its limit with 429 before reading them."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            self.buckets.take(client[0] if client else "unknown")
        except RateLimited as exc:
            await refuse(send, 429, str(exc), [(b"retry-after", str(exc.retry_after_s).encode())])
            return
        await self.app(scope, receive, send)


async def refuse(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with `{"detail": ...}` JSON, as the app's own error handlers do."""
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
