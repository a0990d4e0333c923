"""A Sentry ingest endpoint: takes the SDK's envelopes (POST /api/<project>/envelope/, gzip or
plain) the way sentry.io does, and keeps them for the test to read."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def parse_envelope(raw: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """(envelope header, [(item header, payload)]) of Sentry's envelope format."""
    header_line, _, rest = raw.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return json.loads(header_line), items


class FakeSentry:
    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                fake.paths.append(self.path)
                fake.envelopes.append(body)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public-key@127.0.0.1:{self.server.server_address[1]}/42"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSentry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        """The error events received (transactions and sessions left out)."""
        found = []
        for raw in self.envelopes:
            _, items = parse_envelope(raw)
            found += [json.loads(p) for item, p in items if item.get("type") == "event"]
        return found
