"""The probe program against hostile servers on this machine (no cluster): every answer
is bounded in time and size, and its failure kind is reported; and whatever the
program prints is validated before the grader reads it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from course.traffic import ANSWER_LIMIT, SHOWN_BODY, Failure, from_host, run_batch

TIMEOUT = 1.0
Handler = Callable[[socket.socket], None]


@pytest.fixture
def server() -> Iterator[Callable[[Handler], int]]:
    """Starts TCP servers on 127.0.0.1 running `handler` per connection; returns their port."""
    listeners: list[socket.socket] = []

    def start(handler: Handler) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(connection,), daemon=True).start()

        def serve(connection: socket.socket) -> None:
            with connection:
                try:
                    connection.settimeout(10)
                    handler(connection)
                except OSError:
                    pass

        threading.Thread(target=accept, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def http_answer(body: bytes, status: bytes = b"200 OK") -> Handler:
    def handle(connection: socket.socket) -> None:
        connection.recv(4096)
        connection.sendall(b"HTTP/1.0 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return handle


def trickle(connection: socket.socket) -> None:
    connection.recv(4096)
    for byte in b"HTTP/1.0 200 OK\r\nContent-Length: 40\r\n\r\n" + b"x" * 40:
        connection.send(bytes([byte]))
        time.sleep(0.25)


def flood(connection: socket.socket) -> None:
    connection.recv(4096)
    connection.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
    while True:
        connection.sendall(b"x" * 65536)


def silent(connection: socket.socket) -> None:
    connection.recv(4096)
    time.sleep(5)


def fake_redis(connection: socket.socket) -> None:
    connection.recv(4096)
    connection.sendall(b"+PONG\r\n")
    time.sleep(5)


def real_redis(connection: socket.socket) -> None:
    connection.recv(4096)
    info = b"# Server\r\nredis_version:7.0.0\r\nrun_id:" + b"c0ffee" * 6 + b"abcd\r\ntcp_port:6379\r\n"
    connection.sendall(b"+PONG\r\n$%d\r\n" % len(info) + info + b"\r\n")


def probe(specs: list[tuple[str, str]]) -> tuple[list, float]:
    started = time.monotonic()
    results = from_host(specs, timeout=TIMEOUT, attempts=1)
    return results, time.monotonic() - started


def test_a_trickle_a_silent_server_and_a_flood_are_cut_off_and_named(server):
    specs = [("http", f"http://127.0.0.1:{server(handler)}/whoami") for handler in (trickle, silent, flood)]
    specs.append(("http", f"http://127.0.0.1:{server(http_answer(b'{}'))}/whoami"))
    (trickled, quiet, flooded, fine), took = probe(specs)
    assert took < TIMEOUT + 3, took  # one deadline for the whole batch, whatever the servers do
    assert trickled.failure is Failure.SLOW and "bytes in" in trickled.error and not trickled.ok
    assert quiet.failure is Failure.SLOW and "0 bytes" in quiet.error
    assert flooded.failure is Failure.TOO_LARGE and str(ANSWER_LIMIT) in flooded.error
    assert fine.ok and fine.status == 200 and fine.body == "{}" and fine.peer == "127.0.0.1"
    assert all(f.answered for f in (Failure.SLOW, Failure.TOO_LARGE, Failure.MALFORMED))


@pytest.mark.parametrize("raw, failure", [
    (b"hello there\r\n\r\n", Failure.MALFORMED),
    (b"HTTP/1.0 2000 OK\r\n\r\n", Failure.MALFORMED),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", Failure.MALFORMED),  # closed mid-body
    (b"", Failure.RESET),
])
def test_answers_that_are_not_http(server, raw, failure):
    def handle(connection: socket.socket) -> None:
        connection.recv(4096)
        connection.sendall(raw)
    (result,), _ = probe([("http", f"http://127.0.0.1:{server(handle)}/")])
    assert not result.ok and result.failure is failure, result


def test_a_long_body_is_kept_short(server):
    (result,), _ = probe([("http", f"http://127.0.0.1:{server(http_answer(b'y' * 20000))}/")])
    assert result.ok and len(result.body) == SHOWN_BODY


def test_redis_answers_tell_which_server_answered(server):
    (real, fake, http), took = probe([("redis", f"127.0.0.1:{server(real_redis)}"),
                                      ("redis", f"127.0.0.1:{server(fake_redis)}"),
                                      ("redis", f"127.0.0.1:{server(http_answer(b'no'))}")])
    assert real.ok and real.body == "+PONG" and real.server_id == "c0ffee" * 6 + "abcd"
    assert fake.ok and fake.body == "+PONG" and fake.server_id == ""  # PONG, but no INFO: nobody in particular
    assert http.ok and http.body.startswith("HTTP/1.0 200")
    assert took < TIMEOUT + 3


@pytest.mark.parametrize("output", [
    "", "Traceback (most recent call last):", "null", "{}", "[]", "[1, 2]", '"x"', "[" * 100000,
    json.dumps([{"ok": True, "status": "200", "body": ["x"], "addresses": "10.0.0.1", "peer": 7, "server_id": "zz"}]),
    json.dumps([{"ok": True, "status": True, "body": "b" * 100000, "addresses": ["x", "10.0.0.1"],
                 "peer": "10.0.0.1\n", "server_id": "A" * 40}]),
    json.dumps([{"ok": False, "error": {"x": 1}, "type": ["TimeoutError"]}]),
    json.dumps(["not an object"]),
])
def test_whatever_the_program_prints_becomes_validated_results(output):
    (result,) = run_batch(lambda command: output, [("http", "http://x/")], timeout=1, attempts=1, pause=0)
    assert isinstance(result.body, str) and len(result.body) <= SHOWN_BODY
    assert result.status is None or (type(result.status) is int and 100 <= result.status <= 999)
    assert all(isinstance(a, str) for a in result.addresses) and result.addresses in ((), ("10.0.0.1",))
    assert result.peer == "" and result.server_id == ""
    assert result.ok or (isinstance(result.error, str) and result.failure is not None)


def test_a_host_run_that_overruns_fails_its_probes_with_the_cause(monkeypatch):
    import subprocess

    def too_slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", too_slow)
    results = from_host([("http", "http://a/"), ("redis", "b:1")], timeout=1, attempts=1)
    assert [r.failure for r in results] == [Failure.TIMEOUT, Failure.TIMEOUT]
    assert "did not finish" in results[0].error


def _local_run(command: list[str]) -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, timeout=30).stdout


def test_names_resolve_through_the_search_domains_first_then_as_given(server):
    """A shared probe pod looks names up as a pod of the learner's namespace would:
    search domains first (here they resolve nothing), then the name itself."""
    port = server(http_answer(b"ok"))
    search = ["no-such-namespace.svc.cluster.invalid", "cluster.invalid"]
    by_name, by_ip, lookup = run_batch(_local_run, [("http", f"http://localhost:{port}/"),
                                                    ("http", f"http://127.0.0.1:{port}/"), ("dns", "localhost")],
                                       timeout=3.0, attempts=1, search=search)
    assert by_name.ok and by_name.body == "ok" and by_ip.ok and "127.0.0.1" in lookup.addresses
    missing = run_batch(_local_run, [("dns", "no-such-name.invalid")], timeout=3.0, attempts=1, search=search)[0]
    assert missing.failure is Failure.NAME
