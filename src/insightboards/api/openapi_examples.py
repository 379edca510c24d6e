"""Examples in the OpenAPI document. The request examples are the vendor reference page's
sample bodies as printed (and two of this service's own); the response examples are what
this server answered to them, recorded from a real server in `openapi_examples.json`. The
tests check each against the schema it illustrates.

They are put into the document after FastAPI has made it: FastAPI drops every `null` from
examples given to routes, and a board's `layout: null` is part of what it shows."""

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from insightboards.api.problems import PROBLEM_JSON, problem_body

_RECORDED: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath("openapi_examples.json").read_text()
)
_VENDOR = "The vendor reference page's sample body."


@dataclass(frozen=True)
class Examples:
    # Request body examples: name -> (summary, key of the recorded example).
    request: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The success response's status and its recorded example.
    response: tuple[str, str] | None = None


# By method and path below the API's version prefix.
_BY_OPERATION = {
    ("get", "/dashboards"): Examples(
        {"listBody": ("Boards that are not reports, last changed first", "listBody")},
        ("200", "listPage"),
    ),
    ("post", "/dashboards"): Examples({"vendor": (_VENDOR, "vendorDashboard")}, ("201", "created")),
    ("get", "/dashboards/reports"): Examples(response=("200", "reports")),
    ("get", "/dashboards/tags/usages"): Examples(response=("200", "tagUsages")),
    ("get", "/dashboards/tag/{tag}"): Examples(response=("200", "updated")),
    ("put", "/dashboards/items/{id}"): Examples(
        {
            "insight": ("An insight tile at the top left, 6 by 4", "insightItem"),
            "vendor": (_VENDOR + " It names no item, so it saves nothing.", "vendorDashboard"),
        }
    ),
    ("get", "/dashboards/{dashboardId}"): Examples(response=("200", "board")),
    ("put", "/dashboards/{dashboardId}"): Examples(
        {"vendor": (_VENDOR, "vendorDashboard")}, ("200", "updated")
    ),
    ("post", "/dashboards/{dashboardId}/clone"): Examples(
        {"vendor": (_VENDOR, "vendorClone")}, ("201", "cloned")
    ),
    ("get", "/dashboards/{dashboardId}/versions"): Examples(response=("200", "versions")),
    ("get", "/dashboards/{dashboardId}/versions/{version}"): Examples(response=("200", "version")),
    ("get", "/dashboards/{dashboardId}/versions/{version}/diff/{other}"): Examples(
        response=("200", "versionDiff")
    ),
    ("post", "/dashboards/{dashboardId}/versions/{version}/restore"): Examples(
        response=("200", "restored")
    ),
    ("get", "/dashboards/trash"): Examples(response=("200", "trash")),
    ("post", "/dashboards/{trashedId}/undelete"): Examples(response=("200", "undeleted")),
    ("get", "/dashboards/changes"): Examples(response=("200", "changes")),
    ("get", "/audit"): Examples(response=("200", "audit")),
}


# A refusal of each kind, as the service words it.
_PROBLEMS: dict[str, tuple[str, list[dict[str, str]] | None]] = {
    "400": ("body.name: Field required", [{"field": "body.name", "message": "Field required"}]),
    "401": ("The bearer token is unknown or revoked.", None),
    "402": ("This account is suspended.", None),
    "403": ("You may not update this dashboard.", None),
    "404": ("Dashboard not found.", None),
    "409": ("A dashboard with tag 'phe6ery4o' already exists.", None),
    "412": (
        "The dashboard was changed by someone else (now at version 3); reload it and try again.",
        None,
    ),
    "413": ("The request body is larger than 1048576 bytes.", None),
    "503": ("The database does not answer.", None),
}


def add_examples(document: dict[str, Any]) -> None:
    for path, path_item in document["paths"].items():
        below_version = "/" + path.split("/", 4)[-1] if path.startswith("/results/api/") else path
        for method, operation in path_item.items():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(PROBLEM_JSON)
                if media is not None and status in _PROBLEMS:
                    media["example"] = problem_body(int(status), *_PROBLEMS[status])
            examples = _BY_OPERATION.get((method, below_version))
            if examples is None:
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                media["examples"] = {
                    name: {"summary": summary, "value": _RECORDED[key]}
                    for name, (summary, key) in examples.request.items()
                }
            if examples.response is not None:
                status, key = examples.response
                content = operation["responses"][status]["content"]
                # JSON's alone where an operation answers in other forms too (an event
                # stream has its own example).
                for media in (
                    [content["application/json"]] if len(content) > 1 else content.values()
                ):
                    media["example"] = _RECORDED[key]
