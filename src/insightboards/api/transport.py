"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm switched off on every connection.

asyncio turns Nagle off on the TCP connections it accepts, but with `--workers` uvicorn hands
each worker a copy of the listening socket whose protocol field asyncio does not recognise
as TCP, so it leaves Nagle on. A response written as headers then body then waits for the
client's delayed ACK: about 40 ms on every small response.
"""

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
