"""One thread that cuts a connection whose call's deadline passed while its headers were arriving.

The socket timeout bounds each read, and every byte renews it: a server that drips its status
line and headers one byte at a time would hold a call far past its deadline, before any body
exists for :func:`qibo_client.http.deadline.read_body` to cut. So while a connection waits for the
head of an answer, it is registered here with the deadline of the call in progress; at the deadline
a single shared thread shuts the socket down, the read ends, and the call fails with its deadline
error. Registering costs a lock and a heap push (no thread per request); the thread starts on
first use and sleeps while nothing is registered.

:class:`DeadlineAdapter` is the requests adapter whose connection pools use these connections.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from qibo_client.http import deadline as _budget

#: Seconds past the deadline before a socket is cut: a silent server meets its read timeout first
#: (the clearer error); only a drip, which renews that timeout, needs the cut.
GRACE = 0.1


class Watchdog:
    """Shuts registered sockets down at their deadlines unless released first."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, sock: socket.socket) -> int:
        """Register ``sock`` until ``deadline`` (monotonic); returns the ticket for release."""
        with self._wake:
            ticket = next(self._tickets)
            heapq.heappush(self._heap, (deadline, ticket, sock))
            self._live.add(ticket)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="qibo-client-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0][1] == ticket:
                self._wake.notify()
        return ticket

    def release(self, ticket: int) -> None:
        with self._wake:
            self._live.discard(ticket)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, ticket, sock = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(ticket)
            with contextlib.suppress(OSError):  # already closed: nothing left to cut
                sock.shutdown(socket.SHUT_RDWR)


WATCHDOG = Watchdog()


class _DeadlineMixin:
    """``getresponse`` under the watchdog when the call in progress has a deadline."""

    sock: Any

    def getresponse(self) -> Any:
        budget = _budget.current()
        if budget is None or budget.deadline is None or self.sock is None:
            return super().getresponse()  # type: ignore[misc]
        ticket = WATCHDOG.watch(budget.deadline + GRACE, self.sock)
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            WATCHDOG.release(ticket)


#: Bodies up to this size leave in the same ``send`` as the request's headers.
ONE_SEND_MAX = 64 * 1024


class _OneSendMixin:
    """A small request leaves in ONE ``send``: its headers held until its body comes.

    urllib3 sends the header block and then the body with two ``sendall`` calls. On loopback each
    one wakes the server, which reads the headers, goes back to its event loop, and is woken
    again for the body: measured on a busy 2-core machine, the two sends of a Bell job's POST
    took 1 ms each, about a quarter of the whole job (``http.client`` itself joins the two when
    it can; urllib3 never does).
    """

    _held: bytes | None = None
    _hold_headers = False

    def request(self, method: str, url: str, body: Any = None, *args: Any, **kw: Any) -> None:
        self._hold_headers = isinstance(body, bytes) and 0 < len(body) <= ONE_SEND_MAX
        try:
            super().request(method, url, body, *args, **kw)  # type: ignore[misc]
        except BaseException:
            self._held = None
            raise
        finally:
            self._hold_headers = False
        held, self._held = self._held, None
        if held is not None:  # no body was sent after all
            super().send(held)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        if self._hold_headers:
            self._hold_headers = False
            self._held = bytes(data)
            return
        if self._held is not None:
            data, self._held = self._held + bytes(data), None
        super().send(data)  # type: ignore[misc]


class DeadlineHTTPConnection(_DeadlineMixin, _OneSendMixin, HTTPConnection):
    pass


class DeadlineHTTPSConnection(_DeadlineMixin, _OneSendMixin, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with connections whose wait for an answer's head obeys the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


__all__ = ["WATCHDOG", "DeadlineAdapter", "Watchdog"]
