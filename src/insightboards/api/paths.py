"""Requests put in the one form the routes know, before routing: one path per resource,
with or without a trailing slash, and HEAD as the GET it stands for.

Starlette's router answered the other form of a path with a redirect to an absolute URL
built from the request's Host header, so a forged Host made the API point its client at
another site (`Host: evil.example` → `307 location: http://evil.example/...`). Serving both
forms needs no URL at all, and spares clients the round trip.

FastAPI's routes answer only the methods they declare, so a load balancer's or a link
checker's HEAD got 405. A HEAD runs as its GET (RFC 9110 §9.3.2), and the body is dropped on
its way out; the headers, Content-Length included, stay those of the GET.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CanonicalRequests:
    """Drops trailing slashes from the path (the app runs with `redirect_slashes=False`) and
    answers HEAD as GET without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            raw_path: bytes | None = scope.get("raw_path")
            if raw_path is not None:
                scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
