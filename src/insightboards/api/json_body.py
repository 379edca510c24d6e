"""JSON request bodies, parsed strictly and bounded before any model sees them.

orjson refuses what the standard library lets through to fail later: lone surrogates
(`"\\ud800"`, which no database driver can encode), numbers beyond a double (a 5,000-digit
integer), NaN and Infinity. A body nested deeper than MAX_JSON_DEPTH is refused with a 400
naming the limit, so that no stored document can later be too deep to render.
"""

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

# The deepest document the API takes is a label tree (two levels per label); this leaves
# room for every schema and stays far below the renderers' recursion limits (orjson: 255).
MAX_JSON_DEPTH = 64


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in `value` nest more than `limit` levels deep."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                parsed = orjson.loads(await self.body())
            except orjson.JSONDecodeError as error:
                raise HTTPException(400, f"The request body is not valid JSON: {error}") from None
            if nesting_depth_exceeds(parsed, MAX_JSON_DEPTH):
                raise HTTPException(
                    400,
                    f"The request body nests arrays and objects over {MAX_JSON_DEPTH} levels deep.",
                )
            self._json = parsed
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by StrictJsonRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_strictly(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return handle_strictly
