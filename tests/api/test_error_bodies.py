"""Every error has one shape, `{"detail": "<a sentence>"}`, and a request that breaks the schema also lists each
problem in `errors`: a client reads `detail` whatever went wrong. (tests/api/test_schema_contract.py checks every
answer against the published schema; these pin what a client reading them sees.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
SECRET_TEXT = "my password is Hunter2hunter and my payout is late"


def test_an_invalid_request_names_the_first_problem_and_lists_all_without_echoing_the_values(
    client: TestClient,
) -> None:
    refused = client.post("/v1/triage", json={"text": SECRET_TEXT, "ticket_id": "T-1", "priority": "P1"})
    assert refused.status_code == 422
    body = refused.json()
    assert body["detail"] == "body.ticket_id: Extra inputs are not permitted (and 1 more problem)"
    assert [e["loc"] for e in body["errors"]] == [["body", "ticket_id"], ["body", "priority"]]
    assert "Hunter2hunter" not in refused.text, "the ticket's text is not sent back"


def test_a_body_that_is_not_json_is_a_400_saying_so(client: TestClient) -> None:
    broken = client.post("/v1/triage", content=b'{"text": ', headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("the body is not valid JSON: Expecting value at position")
    not_utf8 = client.post("/v1/triage", content=b'{"text": "\xff"}', headers={"content-type": "application/json"})
    assert not_utf8.status_code == 400 and isinstance(not_utf8.json()["detail"], str)


def test_an_edit_without_final_text_is_refused_by_the_schema_not_by_a_server_error(client: TestClient) -> None:
    for body in ({"kind": "edit"}, {"kind": "edit", "final_text": " \n "}, {"kind": "reject"}, {"kind": "hold"}):
        refused = client.post("/v1/drafts/DRF-doesnotexist/decision", json=body)
        assert refused.status_code == 422, body
        assert isinstance(refused.json()["detail"], str) and refused.json()["errors"], body


def test_a_method_a_path_does_not_take_lists_every_method_it_does(client: TestClient) -> None:
    """GET and POST /v1/keys are two routes; the 405 names both, not only the first."""
    answer = client.delete("/v1/keys")
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} >= {"GET", "POST"}
    assert answer.json() == {"detail": "Method Not Allowed"}


def test_the_schema_says_what_the_service_refuses_and_every_error_has_the_one_shape(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    decision = document["paths"]["/v1/drafts/{draft_id}/decision"]["post"]["requestBody"]["content"]
    assert decision["application/json"]["schema"]["discriminator"]["propertyName"] == "kind"
    assert schemas["EditIn"]["required"] == ["kind", "final_text"]
    assert schemas["TicketIn"]["properties"]["text"]["minLength"] == 1
    intents = schemas["LabelChange"]["properties"]["intent"]["anyOf"][0]["enum"]
    assert "payout_missing" in intents, "a correction's labels are the taxonomy's"
    for path, item in document["paths"].items():
        if path == "/v1/health/ready":  # its 503 is the readiness report naming each reason, not an error
            continue
        for method, operation in item.items():
            errors = {code: r["content"] for code, r in operation["responses"].items() if code >= "400"}
            assert all(c == {"application/json": {"schema": ERROR_BODY}} for c in errors.values()), (
                f"{method} {path}: an error answer not in the one error shape"
            )
