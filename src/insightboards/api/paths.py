"""One path per resource, with or without a trailing slash.

Starlette's router answered the other form with a redirect to an absolute URL built from the
request's Host header, so a forged Host made the API point its client at another site
(`Host: evil.example` → `307 location: http://evil.example/...`). Serving both forms needs no
URL at all, and spares clients the round trip.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class IgnoreTrailingSlash:
    """Drops trailing slashes from the path before routing (the app runs with
    `redirect_slashes=False`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = {**scope, "path": path.rstrip("/") or "/"}
                raw_path: bytes | None = scope.get("raw_path")
                if raw_path is not None:
                    scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)
