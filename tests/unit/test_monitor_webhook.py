"""The webhook against local HTTP servers on 127.0.0.1: OK, hanging, failing."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from churn_core.monitor.webhook import post_json


class Recorder(BaseHTTPRequestHandler):
    mode = "ok"
    bodies: list = []
    hits = 0

    def do_POST(self):  # noqa: N802 (http.server's name)
        type(self).hits += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.mode == "hang":
            time.sleep(2.0)
        if self.mode == "fail":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "bad":
            self.send_response(400)
            self.end_headers()
            return
        type(self).bodies.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    servers = []

    def start(mode: str) -> tuple[str, type]:
        handler = type(f"H{mode}", (Recorder,), {"mode": mode, "bodies": [], "hits": 0})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/hook", handler

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_ok_server_receives_the_json(server):
    url, handler = server("ok")
    result = post_json(url, {"run_id": "abc", "drifted_features": ["x"]})
    assert result.ok and result.attempts == 1 and result.status == 200
    assert handler.bodies == [("application/json", {"run_id": "abc", "drifted_features": ["x"]})]


def test_hanging_server_times_out_within_bounds(server):
    url, handler = server("hang")
    start = time.monotonic()
    result = post_json(url, {"run_id": "abc"}, timeout=0.3, retries=1, backoff=0.1)
    elapsed = time.monotonic() - start
    assert not result.ok and result.attempts == 2
    assert elapsed < 2.0  # two 0.3 s attempts and a 0.1 s pause, not the server's 2 s each


def test_server_error_is_retried_then_given_up(server, caplog):
    url, handler = server("fail")
    result = post_json(url, {"run_id": "abc"}, timeout=1.0, retries=2, backoff=0.05)
    assert not result.ok and result.status == 500 and result.attempts == 3
    assert handler.hits == 3
    assert result.seconds < 3.0
    assert any("webhook" in r.message for r in caplog.records)


def test_client_error_is_not_retried(server):
    url, handler = server("bad")
    result = post_json(url, {"run_id": "abc"}, retries=3, backoff=0.05)
    assert not result.ok and result.status == 400 and handler.hits == 1


def test_refused_connection_and_bad_scheme_never_raise():
    closed = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    port = closed.server_address[1]
    closed.server_close()
    result = post_json(f"http://127.0.0.1:{port}/", {"a": 1}, timeout=0.5, retries=1,
                       backoff=0.01)
    assert not result.ok and result.attempts == 2
    assert post_json("file:///etc/passwd", {"a": 1}).attempts == 0
