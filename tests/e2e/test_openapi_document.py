"""What `/openapi.json` teaches: every operation summarised, described and shown by example;
the request examples are the vendor page's sample bodies as printed; every example is valid
against the schema it illustrates, so a client generated from the document accepts them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.e2e.harness import Server

PAGE = (Path(__file__).parent / "vendor_reference.txt").read_text()


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}/openapi.json").json()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    # The schema's `#/components/...` references resolve against the document's components.
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


def _vendor_sample_bodies() -> list[Any]:
    """Every body the page prints as 'expected in body, sample value:'."""
    decoder = json.JSONDecoder()
    return [
        decoder.raw_decode(PAGE[match.end() :].lstrip())[0]
        for match in re.finditer(r"expected in body, sample value:\n", PAGE)
    ]


def test_every_operation_has_a_summary_a_description_and_examples(
    document: dict[str, Any],
) -> None:
    missing = []
    for method, path, operation in _operations(document):
        if not operation.get("summary") or not operation.get("description"):
            missing.append((method, path, "summary or description"))
        for media in operation.get("requestBody", {}).get("content", {}).values():
            if not media.get("examples"):
                missing.append((method, path, "request example"))
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                if "example" not in media:
                    missing.append((method, path, f"{status} example"))
    assert missing == []


def test_the_request_examples_are_the_vendor_pages_sample_bodies(
    document: dict[str, Any],
) -> None:
    vendor = _vendor_sample_bodies()
    assert len(vendor) == 4  # create, clone, item save, update
    shown = [
        example["value"]
        for _, path, operation in _operations(document)
        if path.startswith("/results/api/v1/")
        for media in operation.get("requestBody", {}).get("content", {}).values()
        for name, example in media["examples"].items()
        if name == "vendor"
    ]
    assert sorted(map(json.dumps, shown)) == sorted(map(json.dumps, vendor))


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            validator = _validator(document, media["schema"])
            for name, example in media["examples"].items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert errors == [], (method, path, name, errors)
                checked += 1
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                if "example" in media:
                    validator = _validator(document, media["schema"])
                    errors = [e.message for e in validator.iter_errors(media["example"])]
                    assert errors == [], (method, path, status, errors)
                    checked += 1
    assert checked >= 30


def test_the_vendor_input_forms_are_admitted_by_the_schemas(document: dict[str, Any]) -> None:
    create = _validator(document, {"$ref": "#/components/schemas/DashboardCreate"})
    vendor_forms = {
        "name": "OKR Performance",
        "settings": 'name: "session", value: "602d03d90f20d5000195c7b3", valueDisplayName: "Q2"',
        "tags": [{"name": "okr", "isActive": {"IsActive": False}}],
        "access": {
            "permissions": [{"principalKind": "role", "principalId": "member", "grant": ["read"]}]
        },
    }
    assert create.is_valid(vendor_forms)
    # ... and what the server refuses, the schemas refuse too.
    assert not create.is_valid({**vendor_forms, "settings": 'valueDisplayNameAsArray: "x"'})
    assert not create.is_valid({**vendor_forms, "settings": "name: session"})
    assert not create.is_valid(
        {**vendor_forms, "tags": [{"name": "okr", "isActive": {"isActive": 1}}]}
    )


def test_a_board_as_get_answers_it_is_a_valid_put_body(document: dict[str, Any]) -> None:
    """Clients send back what GET gave them, server-owned fields and all."""
    update = _validator(document, {"$ref": "#/components/schemas/DashboardUpdate"})
    board = document["paths"]["/results/api/v1/dashboards/{dashboardId}"]["get"]["responses"][
        "200"
    ]["content"]["application/json"]["example"]
    assert board["insights"] and board["tags"]  # a board with something in it
    assert [e.message for e in update.iter_errors(board)] == []
