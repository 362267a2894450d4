"""A TCP proxy a test can close and reopen: a database outage without touching the shared server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. stop() refuses new connections and cuts the open ones,
    as a server that goes away does; start() listens again on the same port. With ``delay_s``, each new
    connection waits that long before it is forwarded: a server slow to answer."""

    def __init__(self, target: tuple[str, int], delay_s: float = 0.0) -> None:
        self.target = target
        self.delay_s = delay_s
        self.accepted = 0  # connections accepted so far
        self.port = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> None:
        self._listener = self._listen()
        self._listener.settimeout(0.05)  # so the accept loop notices stop()
        self.port = self._listener.getsockname()[1]
        self._stopped.clear()
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _listen(self) -> socket.socket:
        # Right after stop(), the accept loop may hold the old socket for one more timeout.
        deadline = time.monotonic() + 2
        while True:
            try:
                return socket.create_server(("127.0.0.1", self.port))
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
                self.accepted += 1
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        time.sleep(self.delay_s)  # the slow server this proxy plays, when asked to
        upstream = socket.create_connection(self.target)
        with self._lock:
            if self._stopped.is_set() or client.fileno() < 0:  # stop() came while this one waited: cut
                _close(client)
                _close(upstream)
                return
            client.settimeout(None)
            self._sockets.add(upstream)
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        _pump(upstream, client)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass  # the other side, or stop(), closed the connection
    _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
