"""Schemathesis hooks for the generated API tests (test_generated_api.py).

- `re2`: the format of `$regex` in the `Filter` schema. Schemathesis cannot know which
  strings RE2 compiles, so it is told: literal text, and a sample of RE2 constructs.
- A check: `412 Precondition Failed` only when `If-Match` names a version the board does not
  have. The configuration admits 412 for a valid request to the four operations that take
  `If-Match` (a stale ETag is well-formed input, like an unknown id that gets 404); this
  check makes sure 412 is never answered for any other reason.
"""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from hypothesis import strategies as st

_RE2_PIECES = ["^", "$", ".", "a", "Z", "0", "[a-z]", "[^x]", "\\d", "\\w", "\\s", "(ab)", "a|b",
               "x*", "y+", "z?", "b{2}", "(?i)o", "\\.", "\\$", " "]  # fmt: skip
schemathesis.openapi.format("re2", st.lists(st.sampled_from(_RE2_PIECES), max_size=12).map("".join))


@schemathesis.check
def precondition_failed_only_on_a_stale_if_match(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code != 412:
        return
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    if_match = headers.get("if-match")
    if if_match is None or if_match.strip() == "*":
        raise AssertionError("412 without an If-Match that could fail")
    parameters = case.path_parameters or {}
    board_id = parameters.get("dashboardId") or parameters.get("id")
    request = response.request
    board_url = str(request.url).split("/dashboards/")[0] + f"/dashboards/{board_id}"
    auth = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
    current = requests.get(board_url, headers=auth, timeout=10)
    if current.status_code == 404:
        raise AssertionError("412 for a board that does not exist (should be 404)")
    if current.headers.get("ETag") == if_match.strip():
        raise AssertionError(f"412 although If-Match {if_match} is the current ETag")
