"""A loopback HTTP server serving fixture files, for testing real downloads offline.

``serve_files(root)`` starts a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a
background thread serving the files under ``root``; it records every requested path
(so tests can assert a file was downloaded exactly once) and can be told to fail
(``server.fail_with = 503``) or to send extra headers.  Use it as a context manager.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class FixtureServer:
    """A running fixture server: its base URL and the requests it has answered."""

    root: Path
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    fail_with: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def count(self, suffix: str) -> int:
        """How many requests asked for a path ending with ``suffix``."""
        return sum(1 for r in self.requests if r.endswith(suffix))


def _handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests.append(self.path)
            if server.fail_with is not None:
                self.send_error(server.fail_with)
                return
            rel = self.path.split("?", 1)[0].lstrip("/")
            path = (server.root / rel).resolve()
            if server.root.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            for k, v in server.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def serve_files(root: str | Path) -> Iterator[FixtureServer]:
    """Serve ``root`` over HTTP on 127.0.0.1 until the block ends."""
    state = FixtureServer(Path(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
