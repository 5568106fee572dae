"""The clients of `copilot bench load`, as a locustfile: locust reads it in its own process (`locust -f`); the
copilot never imports it.

Each client sends one request, waits for the answer, and sends the next, as a helpdesk's intake does under a
steady stream of new tickets. Every request is a new ticket: a real text from the eval set, made unique by a
reference number at its end (a repeated text would be answered from the embedder's cache, hiding the cost of
a new one), with a helpdesk id never sent before (a repeated id returns the kept record without triage).
The bench passes what to send in environment variables.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, constant, task

TICKETS_VARIABLE = "COPILOT_LOAD_TICKETS"  # a JSON file: a list of ticket texts
PATH_VARIABLE = "COPILOT_LOAD_PATH"  # the route: /v1/triage or /v1/suggest
KEY_VARIABLE = "COPILOT_LOAD_KEY"  # a service's API key in the served database
ERROR_CHARS = 200  # of a refused request's body kept as its error: enough to read the `detail`

TEXTS: list[str] = json.loads(Path(os.environ[TICKETS_VARIABLE]).read_text(encoding="utf-8"))
PATH = os.environ[PATH_VARIABLE]
HEADERS = {"X-API-Key": os.environ[KEY_VARIABLE]}
RUN = uuid.uuid4().hex[:12]  # this locust process: the warm-up and the measured run never share a helpdesk id
# Shared by all clients (gevent runs them in one thread); a random start, so that the texts of one run are not
# those of the run before it, which a worker's cache may still hold.
_numbers = itertools.count(random.randrange(10**8, 9 * 10**8))


class HelpdeskIntake(FastHttpUser):
    wait_time = constant(0)  # the next ticket as soon as the last is answered: the server sets the pace

    @task
    def send_ticket(self) -> None:
        number = next(_numbers)
        body = {"text": f"{TEXTS[number % len(TEXTS)]}\n\n#{number}", "helpdesk_id": f"load-{RUN}-{number}"}
        with self.client.post(PATH, json=body, headers=HEADERS, name=PATH, catch_response=True) as response:
            if not 200 <= (response.status_code or 0) < 300:
                said = (response.text or str(response.error or "no answer"))[:ERROR_CHARS]
                response.failure(f"HTTP {response.status_code}: {said}")
