"""JSON request bodies, parsed strictly and bounded before any model sees them; and JSON
answers of plain values (`json_response`).

orjson refuses what the standard library lets through to fail later: lone surrogates
(`"\\ud800"`, which no database driver can encode), numbers beyond a double (a 5,000-digit
integer), NaN and Infinity. A body nested deeper than MAX_JSON_DEPTH, or with an array longer
than any list the API takes, is refused with a 400 naming the limit, before a model sees it.
"""

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from insightboards.dashboards.limits import Limits

# The deepest document the API takes is a label tree (two levels per label); this leaves
# room for every schema and stays far below the renderers' recursion limits (orjson: 255).
MAX_JSON_DEPTH = 64
_CONTAINERS = frozenset((dict, list))


def shape_problem(value: Any, max_depth: int, max_array: int) -> str | None:
    """What makes `value` too deep or too broad to take further, or None.

    Checked on the parsed JSON, before any model validates it: validation runs on the event
    loop, and 340,000 empty items (under 1 MiB) took it seconds, stalling every request.
    """
    if not isinstance(value, (dict, list)):
        return None
    pending = [(value, 1)]  # arrays and objects only: most of a body is scalars
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        else:
            if len(node) > max_array:
                return f"The request body has an array of over {max_array} elements."
            children = node
        if depth > max_depth:
            return f"The request body nests arrays and objects over {max_depth} levels deep."
        for child in children:
            if type(child) in _CONTAINERS:  # orjson makes exactly these, no subclasses
                pending.append((child, depth + 1))
    return None


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                parsed = orjson.loads(await self.body())
            except orjson.JSONDecodeError as error:
                raise HTTPException(400, f"The request body is not valid JSON: {error}") from None
            limits: Limits = self.app.state.limits
            problem = shape_problem(parsed, MAX_JSON_DEPTH, limits.longest_list)
            if problem is not None:
                raise HTTPException(400, problem)
            self._json = parsed
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by StrictJsonRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_strictly(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return handle_strictly


def json_response(value: Any) -> Response:
    """`value` as JSON, by orjson, without a response model's validation (the services
    build these answers whole)."""
    return Response(orjson.dumps(value), media_type="application/json")
