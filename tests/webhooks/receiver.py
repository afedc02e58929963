"""A real HTTP receiver for webhook tests: a server on 127.0.0.1 (a random port) in a thread that checks each
request's signature as a receiver would, and answers the status codes it is given in turn."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tmw.webhooks import signing


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int


@dataclass
class Receiver:
    secret: str
    answers: list[int]  # the status of each request in turn; the last one repeats
    requests: list[Received] = field(default_factory=list)
    location: str = ""  # with a 3xx answer: where it points
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/tmw"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                verified = signing.verify(
                    secret=receiver.secret,
                    body=body,
                    timestamp=self.headers.get(signing.TIMESTAMP_HEADER, ""),
                    signature_header=self.headers.get(signing.SIGNATURE_HEADER, ""),
                )
                index = min(len(receiver.requests), len(receiver.answers) - 1)
                status = receiver.answers[index] if verified else 401
                receiver.requests.append(Received(self.path, dict(self.headers), body, verified, status))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                payload = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "try again later"}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
