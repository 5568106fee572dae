"""The OpenAPI document is the API's contract: it describes every request the service accepts and every answer it
gives (tests/api/test_schema_contract.py holds the service to it with schemathesis).

FastAPI writes it from the routes and models. Two things it cannot see are added here, once, when the document is
first asked for:

- the text rule of api/parameters.py, which the app applies to every path, query and form value of every route
  (a route added later included): each such string gets the rule's pattern, unless it states a stricter one;
- the taxonomy's labels, where a label outside it is refused (422): they are the running service's data, not
  the code's, so they become enums from the taxonomy the service was built with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI

from copilot.domain.taxonomy import Taxonomy
from copilot.domain.text import LINE_PATTERN, TEXT_PATTERN

Schema = dict[str, Any]

# Path parameters are ids and names (one line); queries and forms may hold text (tabs and line breaks kept).
PATTERN_OF_PLACE = {"path": LINE_PATTERN, "query": TEXT_PATTERN}
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def publish_contract(app: FastAPI, taxonomy: Taxonomy) -> None:
    """Make `app.openapi()` return FastAPI's document with the additions above."""
    generate = app.openapi

    def contract() -> Schema:
        if app.openapi_schema is None:
            document = generate()  # FastAPI's own, which it keeps in app.openapi_schema
            _hold_values_to_the_text_rule(document)
            _labels_from_the_taxonomy(document, taxonomy)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = contract  # type: ignore[method-assign]


def _hold_values_to_the_text_rule(document: Schema) -> None:
    for operation in _operations(document):
        for parameter in operation.get("parameters", []):
            pattern = PATTERN_OF_PLACE.get(parameter.get("in", ""))
            if pattern is not None:
                _give_pattern(parameter.get("schema", {}), pattern)
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            if media_type in FORMS:
                form = _resolve(document, content.get("schema", {}))
                for field in form.get("properties", {}).values():
                    _give_pattern(field, TEXT_PATTERN)


def _labels_from_the_taxonomy(document: Schema, taxonomy: Taxonomy) -> None:
    """Label corrections (POST /v1/tickets/{id}/labels) and the LOB of a search (GET /v1/kb/search)."""
    correction = document.get("components", {}).get("schemas", {}).get("LabelChange", {}).get("properties", {})
    valid = {
        "intent": taxonomy.labels,
        "risk_flags": taxonomy.risk_flags,
        "priority": taxonomy.priorities,
        "language": taxonomy.languages,
    }
    for name, labels in valid.items():
        if name in correction:
            _restrict(correction[name], labels)
    search = document.get("paths", {}).get("/v1/kb/search", {}).get("get", {})
    for parameter in search.get("parameters", []):
        if parameter.get("name") == "lob":
            _restrict(parameter.get("schema", {}), taxonomy.lobs)


def _operations(document: Schema) -> Iterator[Schema]:
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                yield operation


def _strings(schema: Schema) -> Iterator[Schema]:
    """The string schemas within a schema, through anyOf / oneOf / allOf and array items."""
    if schema.get("type") == "string":
        yield schema
    for combined in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(combined, []):
            yield from _strings(branch)
    if isinstance(schema.get("items"), dict):
        yield from _strings(schema["items"])


def _give_pattern(schema: Schema, pattern: str) -> None:
    for string in _strings(schema):
        # An enum or a stated pattern says more already; a file (binary) is no text.
        if not {"pattern", "enum", "const", "format", "contentMediaType"} & string.keys():
            string["pattern"] = pattern


def _restrict(schema: Schema, labels: Iterable[str]) -> None:
    for string in _strings(schema):
        string["enum"] = sorted(labels)
        string.pop("pattern", None)  # the labels are clean; one rule to read


def _resolve(document: Schema, schema: Schema) -> Schema:
    reference = schema.get("$ref")
    if not isinstance(reference, str):
        return schema
    found: Schema = document
    for part in reference.removeprefix("#/").split("/"):
        found = found.get(part, {})
    return found
