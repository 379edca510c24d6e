"""HEAD answered as GET without its body (RFC 9110 §9.3.2), for every GET route.

FastAPI's routes answer only the methods they declare, so a load balancer's or a link
checker's HEAD got 405. Here a HEAD runs as the GET it stands for, and the body is dropped
on its way out; the headers, Content-Length included, stay those of the GET."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
