"""uvicorn's HTTP/1.1 protocol, with two changes.

Nagle's algorithm is switched off on every connection. asyncio turns Nagle off on the TCP
connections it accepts, but with `--workers` uvicorn hands each worker a copy of the
listening socket whose protocol field asyncio does not recognise as TCP, so it leaves Nagle
on. A response written as headers then body then waits for the client's delayed ACK: about
40 ms on every small response.

A request the HTTP parser refuses (malformed, or a request line or header block over h11's
16 KiB) is answered with a problem document, like every other error, instead of uvicorn's
plain text.
"""

import asyncio
import socket

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from insightboards.api.problems import PROBLEM_JSON, problem_body

_UNPARSABLE = orjson.dumps(
    problem_body(
        400,
        "The request is not valid HTTP/1.1, or its request line or headers are longer than 16 KiB.",
    )
)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def send_400_response(self, msg: str) -> None:
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(_UNPARSABLE)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=_UNPARSABLE),
            h11.EndOfMessage(),
        ):
            data = self.conn.send(event)
            if data:
                self.transport.write(data)
        self.transport.close()
