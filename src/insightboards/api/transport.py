"""uvicorn's HTTP/1.1 protocol, hardened against clients that hold connections open or frame
requests ambiguously.

- Nagle's algorithm is switched off on every connection. asyncio turns Nagle off on the TCP
  connections it accepts, but with `--workers` uvicorn hands each worker a copy of the
  listening socket whose protocol field asyncio does not recognise as TCP, so it leaves Nagle
  on. A response written as headers then body then waits for the client's delayed ACK: about
  40 ms on every small response.
- Time limits on the client (slowloris): the whole header block within
  `header_timeout_seconds` of the connection opening or of the previous response, and each
  wait for more body bytes at most `body_timeout_seconds`. uvicorn has only its keep-alive
  timeout, which a connection that never finished a request does not reach, and which any
  trickle of bytes resets.
- At most `max_connections` connections per process; each one beyond is answered 503 once its
  headers are in, and closed.
- A request with both Content-Length and Transfer-Encoding is refused, as are those h11
  refuses (malformed, or a request line or header block over its 16 KiB).

Every refusal is a problem document, like every other error. `ClientDeadline`,
`problem_message` and `over_capacity` do not depend on h11: a protocol on uvicorn's httptools
parser would reuse them and say, from its parser callbacks, what it waits for.
"""

import asyncio
import functools
import http
import socket
from collections.abc import Callable
from typing import Any, Literal

import h11
import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from insightboards.api.problems import PROBLEM_JSON, problem_body, send_problem
from insightboards.config import Settings, get_settings

Awaiting = Literal["headers", "body"]

_UNPARSABLE = (
    "The request is not valid HTTP/1.1, or its request line or headers are longer than 16 KiB."
)
_BOTH_LENGTHS = "A request may not have both Content-Length and Transfer-Encoding."


@functools.cache
def _settings() -> Settings:
    """Read once per process, not on every connection."""
    return get_settings()


def problem_message(status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 response carrying a problem document, announcing the connection's end."""
    body = orjson.dumps(problem_body(status, detail))
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [
        b"content-type: " + PROBLEM_JSON.encode(),
        b"content-length: %d" % len(body),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """The app of a connection beyond the cap: answered, not dropped, so that the client
    learns why (closing at once could reset the connection before it reads anything)."""
    detail = "The server has as many connections open as it may; try again shortly."
    await send_problem(send, 503, detail, headers={"Connection": "close"})


class ClientDeadline:
    """The one time limit a connection's client is under at any moment.

    Request headers must be complete within `header_seconds` of when the wait for them began,
    however slowly they trickle in. Body bytes must keep coming: each wait for more may last
    `body_seconds` (a whole-body limit would cut off a large body on a slow link). When time
    runs out, `expired` is called with what was awaited.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        header_seconds: float,
        body_seconds: float,
        expired: Callable[[Awaiting], None],
    ) -> None:
        self._loop = loop
        self._seconds: dict[Awaiting, float] = {"headers": header_seconds, "body": body_seconds}
        self._expired = expired
        self._awaiting: Awaiting | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, awaiting: Awaiting | None) -> None:
        """Call after every read and response with what the connection now waits for from
        its client (None: nothing, the app has the request)."""
        if awaiting == "headers" and self._awaiting == "headers":
            return
        self.cancel()
        self._awaiting = awaiting
        if awaiting is not None:
            self._timer = self._loop.call_later(self._seconds[awaiting], self._expire, awaiting)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._awaiting = None

    def _expire(self, awaiting: Awaiting) -> None:
        self._timer = None
        self._expired(awaiting)


class StrictFramingConnection(h11.Connection):
    """h11, refusing also a request with both Content-Length and Transfer-Encoding.

    h11 lets Transfer-Encoding win and keeps the connection open; a proxy in front that frames
    by Content-Length would then take the rest of the chunked body for a request of its own
    (request smuggling). RFC 9112 (section 6.1) lets a server refuse such a request, and has it
    close the connection whatever it answers.
    """

    refused_because: str | None = None

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        event = super().next_event()
        if isinstance(event, h11.Request):
            names = {name for name, _ in event.headers}
            if b"content-length" in names and b"transfer-encoding" in names:
                self.refused_because = _BOTH_LENGTHS
                raise h11.RemoteProtocolError(_BOTH_LENGTHS)
        return event


class HardenedH11Protocol(H11Protocol):
    conn: StrictFramingConnection

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        size = config.h11_max_incomplete_event_size
        self.conn = (
            StrictFramingConnection(h11.SERVER)
            if size is None
            else StrictFramingConnection(h11.SERVER, size)
        )
        self.limits = _settings()
        self.deadline = ClientDeadline(
            self.loop,
            self.limits.header_timeout_seconds,
            self.limits.body_timeout_seconds,
            self._client_too_slow,
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.logger.warning("Over %d connections: answering 503.", self.limits.max_connections)
            self.app = over_capacity
        self._watch_client()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_client()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_client()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, self.conn.refused_because or _UNPARSABLE)

    def _watch_client(self) -> None:
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            self.deadline.cancel()  # closed, or handed over to a WebSocket protocol
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            self.deadline.watch("headers")
        elif state is h11.SEND_BODY:
            self.deadline.watch("body")
        else:
            self.deadline.watch(None)

    def _client_too_slow(self, awaiting: Awaiting) -> None:
        if awaiting == "body" and self.flow.read_paused:
            # Reading is paused until the app takes the body it was given: the wait is ours.
            self.deadline.watch("body")
            return
        if awaiting == "headers":
            if not self.conn.trailing_data[0]:
                # Nothing of a next request: closed quietly, as an idle keep-alive one is.
                self.transport.close()
                return
            seconds = self.limits.header_timeout_seconds
            self.logger.info("Request headers not complete within %g s: closing.", seconds)
            self._refuse(408, f"The request headers were not complete within {seconds:g} s.")
        else:
            seconds = self.limits.body_timeout_seconds
            self.logger.info("No request body bytes for %g s: closing.", seconds)
            self._refuse(408, f"No more of the request body arrived for {seconds:g} s.")

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a problem document unless a response has begun, then close the connection."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            message = problem_message(status, detail, self.server_state.default_headers)
            self.transport.write(message)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app may still be at the request: its receive says the client is gone, and
            # what it sends is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()
