"""Sending probes and reading their answers, wherever they run: a batch of probes is
one short Python program, run concurrently with a timeout each, so a probe pod costs
one `exec` per round (`course.probe`), and the host runs the same program. Routes
that fail are retried a bounded number of times. What answers is the learner's, so
untrusted: each probe is bounded in time (one deadline for its whole exchange) and in
bytes, a bad answer is a failure of its own kind, and the program's output is
validated field by field. No cluster client here: the grader's pure rules read
`ProbeResult` and `Failure` without importing Kubernetes."""

from __future__ import annotations

import enum
import ipaddress
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

# argv[1]: {"timeout": seconds, "limit": bytes, "probes": [[kind, target], ...], "search": [domain, ...],
# "resolve": {name: address}}; prints one JSON list. With "search", names are looked up as a
# pod of another namespace would (its resolv.conf: those search domains first for a name
# of fewer than 5 dots). "resolve" connects to a name's given address, as curl --resolve
# does, while the request still names the host (an ingress controller routes by it).
# Whatever answers is untrusted: every probe has one deadline for its whole exchange
# (connect, send, every read), so a server trickling a byte a second is cut off at
# `timeout`; an answer over `limit` bytes is cut off too; each such answer is reported
# as a failure of its own kind. A watchdog prints whatever is known at `timeout` + 0.5 s
# and exits, whatever a thread is stuck in (a DNS lookup included).
_PROBE_PROGRAM = r"""
import ipaddress, json, os, socket, sys, threading, time
from urllib.parse import urlsplit
request = json.loads(sys.argv[1])
timeout = float(request["timeout"])
limit = int(request.get("limit", 65536))
SEARCH = [str(domain) for domain in request.get("search") or []]
RESOLVE = {str(name): str(address) for name, address in (request.get("resolve") or {}).items()}
SHOWN = 4096

class SlowAnswer(Exception): pass
class AnswerTooLarge(Exception): pass
class MalformedAnswer(Exception): pass
class RemoteDisconnected(Exception): pass

def names(host):
    # the names a resolver with SEARCH and ndots:5 tries, in order
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    if not SEARCH or host.endswith(".") or host.count(".") >= 5:
        return [host]
    return [host + "." + domain for domain in SEARCH] + [host]

def lookup(host):
    for name in names(host)[:-1]:
        try:
            return socket.getaddrinfo(name, None, socket.AF_INET)
        except socket.gaierror:
            pass
    return socket.getaddrinfo(names(host)[-1], None, socket.AF_INET)

def connect(host, port, deadline):
    if host in RESOLVE:
        host = RESOLVE[host]
    elif SEARCH:
        host = lookup(host)[0][4][0]
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("timed out before connecting")
    return socket.create_connection((host, port), timeout=remaining)

def read(c, deadline, done):
    # (data, "done" | "eof" | "deadline"): reads until done(data), EOF or the deadline
    data = b""
    while not done(data):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, "deadline"
        c.settimeout(remaining)
        try:
            chunk = c.recv(min(65536, limit + 1 - len(data)))
        except socket.timeout:
            return data, "deadline"
        if not chunk:
            return data, "eof"
        data += chunk
        if len(data) > limit:
            raise AnswerTooLarge("the answer exceeded %d bytes" % limit)
    return data, "done"

def slow(data):
    return SlowAnswer("connected, but %d bytes in %.1f s and no complete answer" % (len(data), timeout))

def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None

def http(target, deadline):
    url = urlsplit(target)
    if url.scheme != "http" or not url.hostname:
        raise ValueError("only http:// URLs are probed: " + target)
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    def complete(data):
        head, sep, body = data.partition(b"\r\n\r\n")
        length = content_length(head) if sep else None
        return length is not None and len(body) >= length
    with connect(url.hostname, url.port or 80, deadline) as c:
        peer = c.getpeername()[0]
        c.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: firstapp-probe\r\nConnection: close\r\n\r\n"
                   % (path, url.netloc)).encode("ascii"))
        data, end = read(c, deadline, complete)
    if not data and end == "eof":
        raise RemoteDisconnected("closed the connection without answering")
    head, sep, body = data.partition(b"\r\n\r\n")
    if end == "deadline":
        raise slow(data)
    status = head.split(b"\r\n", 1)[0].split(None, 2)
    if not sep or len(status) < 2 or not status[0].startswith(b"HTTP/") or not (status[1].isdigit() and len(status[1]) == 3):
        raise MalformedAnswer("not an HTTP answer: %r" % data[:60])
    length = content_length(head)
    if length is not None and len(body) < length:
        raise MalformedAnswer("closed after %d of %d body bytes" % (len(body), length))
    body = body if length is None else body[:length]
    return {"ok": True, "status": int(status[1]), "body": body[:SHOWN].decode("utf-8", "replace"), "peer": peer}

def redis(target, deadline):
    # PING, then INFO server: its run_id tells which Redis process answered
    host, _, port = target.rpartition(":")
    def complete(data):
        first, sep, rest = data.partition(b"\r\n")
        if not sep or first != b"+PONG":
            return bool(sep)
        size, sep, bulk = rest.partition(b"\r\n")
        if not sep:
            return False
        if not size.startswith(b"$") or not size[1:].isdigit():
            return True
        return len(bulk) >= int(size[1:])
    with connect(host.strip("[]"), int(port), deadline) as c:
        peer = c.getpeername()[0]
        c.sendall(b"PING\r\nINFO server\r\n")
        data, end = read(c, deadline, complete)
    first, sep, rest = data.partition(b"\r\n")
    if end == "deadline" and not sep:
        raise slow(data)
    server_id = ""
    if first == b"+PONG":
        for line in rest.split(b"\r\n"):
            if line.startswith(b"run_id:"):
                server_id = line[7:].decode("ascii", "replace").strip()
    return {"ok": True, "body": first[:64].decode("utf-8", "replace").strip(), "peer": peer, "server_id": server_id}

def dns(target, deadline):
    infos = lookup(target)
    return {"ok": True, "addresses": sorted({a[4][0] for a in infos})}

def probe(kind, target):
    deadline = time.monotonic() + timeout
    try:
        if kind not in ("http", "redis", "dns"):
            raise ValueError("unknown probe kind " + kind)
        return {"http": http, "redis": redis, "dns": dns}[kind](target, deadline)
    except Exception as e:
        reason = getattr(e, "reason", e)
        name = type(reason).__name__
        return {"ok": False, "error": (name + ": " + str(reason))[:300], "type": name}

results = [None] * len(request["probes"])
def run(index, kind, target):
    results[index] = probe(kind, target)
threads = [threading.Thread(target=run, args=(i, kind, target), daemon=True)
           for i, (kind, target) in enumerate(request["probes"])]
for thread in threads:
    thread.start()
watchdog = time.monotonic() + timeout + 0.5
for thread in threads:
    thread.join(max(0.0, watchdog - time.monotonic()))
late = {"ok": False, "error": "TimeoutError: no result within %.1f s" % timeout, "type": "TimeoutError"}
sys.stdout.write(json.dumps([late if r is None else r for r in list(results)]) + "\n")
sys.stdout.flush()
os._exit(0)
"""
ANSWER_LIMIT = 65536  # bytes read from one answer, at most
SHOWN_BODY = 4096  # characters of a body kept


class Failure(enum.Enum):
    """Why a connection or lookup failed, from the exception the prober saw."""

    REFUSED = "refused"  # nothing listens there (wrong targetPort, no endpoints)
    TIMEOUT = "timeout"  # packets dropped (a policy, a missing route)
    RESET = "reset"
    UNREACHABLE = "unreachable"
    NAME = "name not resolved"  # DNS: no such Service
    # Something accepted the connection, but what it sent is no answer:
    SLOW = "answer too slow"  # not complete within the probe's deadline (a trickle)
    TOO_LARGE = "answer too large"  # over ANSWER_LIMIT bytes
    MALFORMED = "malformed answer"  # not the protocol asked for
    OTHER = "other"

    @property
    def answered(self) -> bool:
        """A connection was accepted: the route is reachable, though nothing usable came back."""
        return self in (Failure.SLOW, Failure.TOO_LARGE, Failure.MALFORMED)


_FAILURE_BY_TYPE = {
    "ConnectionRefusedError": Failure.REFUSED,
    "TimeoutError": Failure.TIMEOUT, "timeout": Failure.TIMEOUT,
    "ConnectionResetError": Failure.RESET, "ConnectionAbortedError": Failure.RESET,
    "RemoteDisconnected": Failure.RESET, "BrokenPipeError": Failure.RESET,
    "gaierror": Failure.NAME,
    "SlowAnswer": Failure.SLOW, "AnswerTooLarge": Failure.TOO_LARGE, "MalformedAnswer": Failure.MALFORMED,
}


def classify(error_type: str, message: str) -> Failure:
    """The failure an exception name (and, for bare OSErrors, its text) stands for."""
    if error_type in _FAILURE_BY_TYPE:
        return _FAILURE_BY_TYPE[error_type]
    lowered = message.lower()
    if "unreachable" in lowered or "no route to host" in lowered:
        return Failure.UNREACHABLE
    return Failure.OTHER


@dataclass
class ProbeResult:
    ok: bool  # the connection (or lookup) succeeded, and an answer in the protocol came back
    status: int | None = None
    body: str = ""  # at most SHOWN_BODY characters; Redis: the first line (+PONG)
    addresses: tuple[str, ...] = ()
    error: str = ""
    failure: Failure | None = None  # set when not ok
    peer: str = ""  # the IP address the connection reached ("" when unknown)
    server_id: str = ""  # Redis: the run_id of the process that answered INFO ("" when none did)

    def json(self) -> Any:
        return json.loads(self.body)


Runner = Callable[[list[str]], str]  # runs a command (python3 -c PROGRAM ARG), returns stdout
ProbeSpec = tuple[str, str]  # (kind, target): ("http", "http://api:8080/whoami"), ("redis", "db:6379"), ("dns", name)
_RUN_ID = re.compile(r"[0-9a-f]{40}")


def is_ip(text: object) -> TypeGuard[str]:
    """`text` is an IPv4 or IPv6 address, as a string."""
    if not isinstance(text, str) or len(text) > 45:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _result(answer: object) -> ProbeResult:
    """One probe's answer, validated field by field: the program's output passed through
    a pod of the learner's namespace, so nothing in it is taken on trust."""
    if not isinstance(answer, dict):
        return ProbeResult(False, error=f"probe output: {str(answer)[:200]!r}", failure=Failure.OTHER)
    if answer.get("ok") is True:
        status = answer.get("status")
        body, addresses = answer.get("body"), answer.get("addresses")
        peer, server_id = answer.get("peer"), answer.get("server_id")
        return ProbeResult(
            True, status if type(status) is int and 100 <= status <= 999 else None,
            body[:SHOWN_BODY] if isinstance(body, str) else "",
            tuple(a for a in addresses[:64] if is_ip(a)) if isinstance(addresses, list) else (),
            peer=peer if is_ip(peer) else "",
            server_id=server_id if isinstance(server_id, str) and _RUN_ID.fullmatch(server_id) else "")
    error, kind = answer.get("error"), answer.get("type")
    error = error[:300] if isinstance(error, str) else "the probe failed"
    return ProbeResult(False, error=error, failure=classify(kind if isinstance(kind, str) else "", error))


def _answers(output: str, count: int) -> list[object]:
    """The probe program's last line, as `count` answers; anything else fails them all."""
    try:
        answers = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError, RecursionError):
        answers = None
    if isinstance(answers, list) and len(answers) == count:
        return answers
    return [{"ok": False, "error": f"probe output: {output[-200:]!r}"}] * count


def run_batch(run: Runner, probes: list[ProbeSpec], timeout: float, attempts: int,
              pause: float = 0.5, search: list[str] | None = None,
              resolve: dict[str, str] | None = None) -> list[ProbeResult]:
    """Every probe's result; those that fail are sent again, up to `attempts` rounds.
    Each round lasts at most about `timeout` (+ 0.5 s, + starting Python), whatever answers.
    `search`: resolve names as a pod whose resolver has these search domains would.
    `resolve`: connect to these names at these addresses (the Host header keeps the name)."""
    results: list[ProbeResult] = [ProbeResult(False, error="not probed", failure=Failure.OTHER)] * len(probes)
    pending = list(range(len(probes)))
    for attempt in range(attempts):
        request = json.dumps({"timeout": timeout, "limit": ANSWER_LIMIT, "probes": [probes[i] for i in pending],
                              **({"search": search} if search else {}), **({"resolve": resolve} if resolve else {})})
        output = run(["python3", "-c", _PROBE_PROGRAM, request])
        for index, answer in zip(pending, _answers(output, len(pending))):
            results[index] = _result(answer)
        pending = [i for i in pending if not results[i].ok]
        if not pending or attempt + 1 == attempts:
            break
        time.sleep(pause)
    return results


def from_host(probes: list[ProbeSpec], timeout: float = 2.0, attempts: int = 2,
              resolve: dict[str, str] | None = None) -> list[ProbeResult]:
    """The same probes sent from this machine, as a learner's browser or curl would
    (`resolve`: where a name such as firstapp.localhost is, as curl and browsers know
    every *.localhost name to be this machine while the system resolver may not)."""
    def run(command: list[str]) -> str:
        limit = timeout * 2 + 10
        try:
            completed = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:  # the program bounds itself; this is the last resort
            count = len(json.loads(command[-1])["probes"])
            return json.dumps([{"ok": False, "type": "TimeoutError",
                                "error": f"TimeoutError: the probe program did not finish in {limit:.0f} s"}] * count)
        return completed.stdout
    return run_batch(run, probes, timeout, attempts, resolve=resolve)
