"""uvicorn's HTTP/1.1 protocol on the httptools (llhttp) parser, hardened against clients that
hold connections open or frame requests ambiguously.

- Nagle's algorithm is switched off on every connection. uvloop does so itself; asyncio's loop
  does not under `--workers`, where uvicorn hands each worker a copy of the listening socket
  whose protocol field asyncio does not recognise as TCP. A response written as headers then
  body would then wait for the client's delayed ACK: about 40 ms on every small response.
- Time limits on the client (slowloris): the whole header block within
  `header_timeout_seconds` of the connection opening or of the previous response, and each
  wait for more body bytes at most `body_timeout_seconds`. uvicorn has only its keep-alive
  timeout, which a connection that never finished a request does not reach, and which any
  trickle of bytes resets.
- At most `max_connections` connections per process; each one beyond is answered 503 once its
  headers are in, and closed.
- A request line and header block over 16 KiB is refused (llhttp sets no limit), as is a
  transfer coding other than chunked alone, and whatever llhttp refuses: malformed requests,
  Content-Length repeated, Content-Length with Transfer-Encoding (a proxy in front framing by
  the other header would take part of the body for a request of its own: smuggling). uvicorn
  turns on none of llhttp's leniencies that would let these through.

Every refusal is a problem document, like every other error, and one for the request's head
is made before on_headers_complete hands the request to the app, which never sees it.
`ClientDeadline`, `problem_message` and `over_capacity` do not depend on the parser.
"""

import asyncio
import functools
import http
import socket
from collections.abc import Callable, Iterable
from typing import Any, Literal

import httptools
import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from insightboards.api.problems import PROBLEM_JSON, problem_body, send_problem
from insightboards.config import Settings, get_settings
from insightboards.feed.watcher import CHANGE_WATCHER

Awaiting = Literal["headers", "body"]

# The limit of h11, uvicorn's other parser: ample for any browser's cookies.
MAX_HEAD_BYTES = 16 * 1024

_INVALID = "The request is not valid HTTP/1.1"
_HEAD_TOO_LONG = "The request line and headers are longer than 16 KiB."
_ONLY_CHUNKED = "A request's Transfer-Encoding may only be chunked."


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


class Refused(Exception):
    """Raised from a parser callback to stop a request before it reaches the app: httptools
    aborts the parse and raises HttpParserCallbackError with this as its __context__."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _why_refused(error: Exception) -> str:
    """The detail of a request refused while it was parsed: ours, or llhttp's reason."""
    refusal = error if isinstance(error, Refused) else error.__context__
    if isinstance(refusal, Refused):
        return refusal.detail
    if isinstance(error, httptools.HttpParserCallbackError):
        return f"{_INVALID}."  # uvicorn's callback could not take it (an unparsable URL)
    return f"{_INVALID}: {error}."


class CoalescingTransport:
    """A connection's transport whose writes made in one step of the event loop leave in
    one send: uvicorn writes a response's head and its body apart, and each send on a
    socket with Nagle's algorithm off is a segment of its own and a wake-up of the client
    (~100 us of the loop's time each, under load). Everything but writing is the
    transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._transport.write(data)
        self._pending.clear()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = _settings()
        self.deadline = ClientDeadline(
            self.loop,
            self.limits.header_timeout_seconds,
            self.limits.body_timeout_seconds,
            self._client_too_slow,
        )
        # What the parser is in the middle of; None: between requests.
        self.receiving: Awaiting | None = None
        # Two counts of the header block being received, neither over its size: the request
        # target and header lines passed on so far, and the reads that came in while the parser
        # was inside the block (a read in which the block ends overcounts, but is not checked:
        # the next request resets the count).
        self.head_bytes = 0
        self.head_reads = 0
        # Why the parser failed, once it has: it reads no more.
        self.invalid: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvloop does this itself; kept so that it holds on asyncio's loop too.
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        if len(self.connections) > self.limits.max_connections:
            self.logger.warning("Over %d connections: answering 503.", self.limits.max_connections)
            self.app = over_capacity
        self._watch_client()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        # A change feed's stream has no end of its own: the server would wait on it for
        # ever. Ended here (each one finishes its response, and its client reconnects).
        watcher = self.app_state.get(CHANGE_WATCHER)
        if watcher is not None:
            watcher.end_streams()
        super().shutdown()

    def data_received(self, data: bytes) -> None:
        # uvicorn's, keeping the parser's error for the problem document.
        if self.invalid is not None:
            return
        self._unset_keepalive_if_required()
        if self.receiving == "headers":
            self.head_reads += len(data)
        try:
            self.parser.feed_data(data)
            # httptools passes a header line on only once it is whole, gathering it by
            # concatenation meanwhile: a line trickling in is bounded by the reads it takes.
            if self.receiving == "headers" and self.head_reads > MAX_HEAD_BYTES:
                raise Refused(_HEAD_TOO_LONG)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except (Refused, httptools.HttpParserError) as error:
            self.invalid = _why_refused(error)
            self.logger.warning("Invalid HTTP request received: %s", self.invalid)
            if self._refusal_is_next():
                self._refuse(400, self.invalid)
            # else it came pipelined behind requests still being answered: refused after them.
        self._watch_client()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.receiving = "headers"
        self.head_bytes = self.head_reads = 0

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        # llhttp takes codings that end in chunked (which the app could not undo), and refuses
        # the others only after on_headers_complete has handed the request to the app.
        if name.lower() == b"transfer-encoding" and value.strip().lower() != b"chunked":
            raise Refused(_ONLY_CHUNKED)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.receiving = "body"
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.receiving = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.invalid is not None and self._refusal_is_next():
            self._refuse(400, self.invalid)
        self._watch_client()

    def _count_head(self, size: int) -> None:
        # Refused from the callback, so before on_headers_complete hands the request to the app.
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            raise Refused(_HEAD_TOO_LONG)

    def _refusal_is_next(self) -> bool:
        """Whether an answer to the request the parser is reading would be the next response
        on the open connection: none before it is still being answered (pipelining)."""
        if self.transport.is_closing():
            return False
        if self.receiving == "body":
            return not self.pipeline  # it is the latest request passed to the app
        return self.cycle is None or self.cycle.response_complete

    def _awaiting(self) -> Awaiting | None:
        """What the connection waits for from its client."""
        if self.receiving == "body":
            return "body"
        if self.cycle is not None and not self.cycle.response_complete:
            return None  # the app has the request: the next one is not due before its answer
        return "headers"

    def _watch_client(self) -> None:
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            self.deadline.cancel()  # closed, or handed over to a WebSocket protocol
            return
        self.deadline.watch(self._awaiting())

    def _client_too_slow(self, awaiting: Awaiting) -> None:
        if awaiting == "body" and (self.flow.read_paused or not self._refusal_is_next()):
            # Reading is paused until the app takes the body it was given, or the request is
            # queued behind another: the wait is ours.
            self.deadline.watch("body")
            return
        if awaiting == "headers":
            if self.receiving is None:
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
        """Answer a problem document unless a response has begun, then close the connection.
        Only once the answer to the request the parser is reading is the next one due."""
        if self.receiving != "body" or not self.cycle.response_started:
            message = problem_message(status, detail, self.server_state.default_headers)
            self.transport.write(message)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app may still be at the request: its receive says the client is gone, and
            # what it sends is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()
