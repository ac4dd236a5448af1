"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, one scripted fault per request.

``responses`` bypasses sockets, urllib3's sleeps and its body reading, so it cannot show what a
client does when a server stalls, drips, cuts an answer short or sends a giant one. This server
writes raw bytes on a real TCP connection instead. Each request is answered by a *play*: a
function ``play(connection, request, stopping)`` that writes whatever it likes (or nothing) and
returns. Plays are queued per path (``queue``) or fixed per path (``always``); the version check
is answered normally unless a test says otherwise.

Given an ``upstream`` (a real server's URL), it is a fault *proxy*: whatever is not scripted is
forwarded there and its answer sent back (:func:`forward`), and the faults a client must survive
in front of a real server are plays too: :func:`drop_before` (the request never reaches the
server), :func:`drop_after` (it does, and the answer is lost), :func:`busy` (503 with a
``Retry-After``), and a restart (:meth:`FaultServer.go_down`: connections refused until
:meth:`FaultServer.come_back`, on the same port). Plays may be queued per method too.

It is bounded and stops itself: at most :data:`MAX_CONNECTIONS` connections at once (more are
closed unanswered), every blocking play waits on the ``stopping`` event rather than sleeping, and
the server shuts down after ``lifetime`` seconds even if a test forgets to stop it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import gzip
import http.client
import io
import json
import socket
import tarfile
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_CONNECTIONS = 32
#: The longest a request's head may be.
MAX_HEAD = 64 * 1024
VERSIONS = {"server_qibo_version": "0.3.6", "minimum_client_qibo_version": "0.3.0"}


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: The path with its query string, as sent.
    target: str = ""


Play = Callable[[socket.socket, Request, threading.Event], None]


class FaultServer:
    """A loopback server whose answers are plays; ``url`` is where it listens."""

    def __init__(self, lifetime: float = 60.0, upstream: str | None = None) -> None:
        self._listener: socket.socket | None = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        #: Set while the server listens; cleared by :meth:`go_down`.
        self.up = threading.Event()
        self.up.set()
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._queued: dict[str, collections.deque[Play]] = collections.defaultdict(
            collections.deque
        )
        self._always: dict[str, Play] = {}
        self._fallback: Play = json_reply({"detail": "Not Found"}, 404)
        if upstream is None:
            self._always["/api/qibo_version/"] = json_reply(VERSIONS)
        else:
            self._fallback = forward(upstream)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._threads: list[threading.Thread] = []
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    # -- scripting ---------------------------------------------------------------------------

    def queue(self, path: str, *plays: Play, method: str | None = None) -> None:
        """The next requests to ``path`` (of ``method`` only, if given) are answered by
        ``plays``, in order."""
        with self._lock:
            self._queued[f"{method} {path}" if method else path].extend(plays)

    def always(self, path: str, play: Play) -> None:
        """Requests to ``path`` with nothing queued are answered by ``play``."""
        with self._lock:
            self._always[path] = play

    def otherwise(self, play: Play) -> None:
        """Requests to any path with nothing queued or fixed are answered by ``play``."""
        with self._lock:
            self._fallback = play

    def seen(self, path: str) -> int:
        """How many requests reached ``path``."""
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    def _play_for(self, request: Request) -> Play:
        with self._lock:
            self.requests.append(request)
            for key in (f"{request.method} {request.path}", request.path):
                queued = self._queued.get(key)
                if queued:
                    return queued.popleft()
            return self._always.get(request.path, self._fallback)

    # -- serving -----------------------------------------------------------------------------

    def start(self) -> FaultServer:
        self._acceptor.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._timer.cancel()
        if self._acceptor.is_alive() and threading.current_thread() is not self._timer:
            self._acceptor.join(timeout=5)
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self.go_down()

    def go_down(self) -> None:
        """Stop listening: connections are refused (as while a server restarts) until
        :meth:`come_back`. Connections already accepted go on."""
        with self._lock:
            listener, self._listener = self._listener, None
            self.up.clear()
        if listener is not None:
            # shutdown() stops a listening socket at once on Linux (close() waits for accept()).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def come_back(self) -> None:
        """Listen again on the same port."""
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR on POSIX
        listener.settimeout(0.1)
        with self._lock:
            self._listener = listener
            self.up.set()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            listener = self._listener
            if listener is None:
                self.up.wait(0.1)
                continue
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self._slots.acquire(blocking=False):
                connection.close()
                continue
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(5)
            request = _read_request(connection)
            if request is not None:
                self._play_for(request)(connection, request, self.stopping)
        except OSError:
            pass  # the client hung up: that is what some tests are about
        finally:
            connection.close()
            self._slots.release()


def _read_request(connection: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk or len(data) > MAX_HEAD:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), 16 * 1024 * 1024)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target.split("?", 1)[0], headers, body, target)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- plays -------------------------------------------------------------------------------------


def raw_reply(status: int, body: bytes, headers: dict[str, str] | None = None) -> Play:
    """A well-formed answer."""
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    fields.update(headers or {})

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        connection.sendall(_head(status, fields) + body)

    return play


def json_reply(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Play:
    return raw_reply(status, json.dumps(value).encode(), headers)


def silent() -> Play:
    """Reads the request and never answers (until the server stops)."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        stopping.wait()

    return play


def drip(body: bytes, interval: float = 0.5, head: bool = False) -> Play:
    """A correct answer sent one byte every ``interval`` seconds (the body only, or all of it)."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        start = _head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        if not head:
            connection.sendall(start)
        for byte in start + body if head else body:
            if stopping.wait(interval):
                return
            connection.sendall(bytes([byte]))

    return play


def cut(body: bytes, sent: int) -> Play:
    """Announces the whole body's length, sends ``sent`` bytes of it, hangs up."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        head = _head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        connection.sendall(head + body[:sent])

    return play


def broken_chunks(body: bytes, sent: int) -> Play:
    """A chunked answer whose chunk says more than it carries, then a hang-up."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        head = _head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        connection.sendall(head + f"{len(body):x}\r\n".encode() + body[:sent])

    return play


def huge(size: int, prefix: bytes = b'{"pid": "p", "status": "success", "x": "') -> Play:
    """An answer of ``size`` bytes, streamed in pieces (never held whole by the server)."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        headers = {"Content-Type": "application/json", "Content-Length": str(size)}
        connection.sendall(_head(200, headers) + prefix)
        left = size - len(prefix)
        piece = b"0" * 65536
        while left > 0 and not stopping.is_set():
            connection.sendall(piece[: min(left, len(piece))])
            left -= len(piece)

    return play


def nested(depth: int) -> Play:
    """A JSON answer nested ``depth`` arrays deep."""
    return raw_reply(200, b"[" * depth + b"]" * depth)


def _upstream(url: str, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """``request`` sent to the server at ``url``: its status, headers and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        skip = {"host", "connection", "content-length", "transfer-encoding", "accept-encoding"}
        headers = {k: v for k, v in request.headers.items() if k not in skip}
        connection.request(request.method, request.target, body=request.body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        connection.close()


def forward(upstream: str, edit: Callable[[bytes], bytes] | None = None) -> Play:
    """The request sent to ``upstream`` and its answer sent back (its body through ``edit``)."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        status, headers, body = _upstream(upstream, request)
        if edit is not None:
            body = edit(body)
        skip = {"connection", "content-length", "transfer-encoding", "keep-alive"}
        fields = {k: v for k, v in headers if k.lower() not in skip}
        fields["Content-Length"] = str(len(body))
        connection.sendall(_head(status, fields) + body)

    return play


def drop_before() -> Play:
    """The request is read and the connection closed: it never reaches the server."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        return None

    return play


def drop_after(upstream: str) -> Play:
    """The request reaches the server at ``upstream``; its answer is lost (connection closed)."""

    def play(connection: socket.socket, request: Request, stopping: threading.Event) -> None:
        _upstream(upstream, request)

    return play


def busy(retry_after: str = "0") -> Play:
    """503 with ``Retry-After``, the request never forwarded."""
    return json_reply({"detail": "busy, try again"}, 503, {"Retry-After": retry_after})


# -- bodies ------------------------------------------------------------------------------------


def job_object(pid: str, status: str = "success", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"pid": pid, "status": status, "nshots": 10, "frequencies": None}
    body.update(fields)
    return body


def archive(members: dict[str, bytes], sizes: dict[str, int] | None = None) -> bytes:
    """A gzip tar of ``members``; ``sizes`` declares other sizes in the headers (lies)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    if sizes:
        raw = _relabel(raw, sizes)
    return gzip.compress(raw)


def _relabel(raw: bytes, sizes: dict[str, int]) -> bytes:
    """Rewrite the size field of named members' headers (checksums fixed), data unchanged."""
    data = bytearray(raw)
    offset = 0
    while offset + 512 <= len(data) and data[offset]:
        header = tarfile.TarInfo.frombuf(bytes(data[offset : offset + 512]), "utf-8", "strict")
        if header.name in sizes:
            data[offset + 124 : offset + 136] = b"%011o\0" % sizes[header.name]
            data[offset + 148 : offset + 156] = b" " * 8
            checksum = sum(data[offset : offset + 512])
            data[offset + 148 : offset + 156] = b"%06o\0 " % checksum
        offset += 512 + (header.size + 511) // 512 * 512
    return bytes(data)


__all__ = [
    "VERSIONS",
    "FaultServer",
    "Request",
    "archive",
    "broken_chunks",
    "busy",
    "cut",
    "drip",
    "drop_after",
    "drop_before",
    "forward",
    "huge",
    "job_object",
    "json_reply",
    "nested",
    "raw_reply",
    "silent",
]
