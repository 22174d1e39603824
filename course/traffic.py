"""Sending probes and reading their answers, wherever they run: a batch of probes is
one short Python program, run concurrently with a timeout each, so a probe pod costs
one `exec` per round (`course.probe`), and the host runs the same program. Routes
that fail are retried a bounded number of times. No cluster client here: the grader's
pure rules read `ProbeResult` and `Failure` without importing Kubernetes."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# argv[1]: {"timeout": seconds, "probes": [[kind, target], ...]}; prints one JSON list.
_PROBE_PROGRAM = r"""
import json, socket, sys, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
request = json.loads(sys.argv[1])
timeout = request["timeout"]

def probe(kind, target):
    try:
        if kind == "http":
            try:
                with urllib.request.urlopen(target, timeout=timeout) as r:
                    return {"ok": True, "status": r.status, "body": r.read(4096).decode("utf-8", "replace")}
            except urllib.error.HTTPError as e:
                return {"ok": True, "status": e.code, "body": e.read(4096).decode("utf-8", "replace")}
        host, _, port = target.rpartition(":")
        if kind == "redis":
            with socket.create_connection((host, int(port)), timeout=timeout) as c:
                c.settimeout(timeout)
                c.sendall(b"PING\r\n")
                return {"ok": True, "body": c.recv(64).decode("utf-8", "replace").strip()}
        if kind == "dns":
            socket.setdefaulttimeout(timeout)
            infos = socket.getaddrinfo(target, None, socket.AF_INET)
            return {"ok": True, "addresses": sorted({a[4][0] for a in infos})}
        return {"ok": False, "error": "unknown probe kind " + kind, "type": "ValueError"}
    except Exception as e:
        reason = getattr(e, "reason", e)
        return {"ok": False, "error": type(reason).__name__ + ": " + str(reason), "type": type(reason).__name__}

with ThreadPoolExecutor(max_workers=16) as pool:
    print(json.dumps(list(pool.map(lambda p: probe(*p), request["probes"]))))
"""


class Failure(enum.Enum):
    """Why a connection or lookup failed, from the exception the prober saw."""

    REFUSED = "refused"  # nothing listens there (wrong targetPort, no endpoints)
    TIMEOUT = "timeout"  # packets dropped (a policy, a missing route)
    RESET = "reset"
    UNREACHABLE = "unreachable"
    NAME = "name not resolved"  # DNS: no such Service
    OTHER = "other"


_FAILURE_BY_TYPE = {
    "ConnectionRefusedError": Failure.REFUSED,
    "TimeoutError": Failure.TIMEOUT, "timeout": Failure.TIMEOUT,
    "ConnectionResetError": Failure.RESET, "ConnectionAbortedError": Failure.RESET,
    "RemoteDisconnected": Failure.RESET, "BrokenPipeError": Failure.RESET,
    "gaierror": Failure.NAME,
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
    ok: bool  # the connection (or lookup) succeeded
    status: int | None = None
    body: str = ""
    addresses: tuple[str, ...] = ()
    error: str = ""
    failure: Failure | None = None  # set when not ok

    def json(self) -> Any:
        return json.loads(self.body)


Runner = Callable[[list[str]], str]  # runs a command (python3 -c PROGRAM ARG), returns stdout
ProbeSpec = tuple[str, str]  # (kind, target): ("http", "http://api:8080/whoami"), ("redis", "db:6379"), ("dns", name)


def _result(answer: dict[str, Any]) -> ProbeResult:
    if answer.get("ok"):
        return ProbeResult(True, answer.get("status"), answer.get("body", ""), tuple(answer.get("addresses", ())))
    error = str(answer.get("error", ""))
    return ProbeResult(False, error=error, failure=classify(str(answer.get("type", "")), error))


def run_batch(run: Runner, probes: list[ProbeSpec], timeout: float, attempts: int,
              pause: float = 0.5) -> list[ProbeResult]:
    """Every probe's result; those that fail are sent again, up to `attempts` rounds."""
    results: list[ProbeResult] = [ProbeResult(False, error="not probed", failure=Failure.OTHER)] * len(probes)
    pending = list(range(len(probes)))
    for attempt in range(attempts):
        request = json.dumps({"timeout": timeout, "probes": [probes[i] for i in pending]})
        output = run(["python3", "-c", _PROBE_PROGRAM, request])
        try:
            answers = json.loads(output.strip().splitlines()[-1])
        except (ValueError, IndexError):
            answers = [{"ok": False, "error": f"probe output: {output[-200:]!r}"}] * len(pending)
        for index, answer in zip(pending, answers):
            results[index] = _result(answer)
        pending = [i for i in pending if not results[i].ok]
        if not pending or attempt + 1 == attempts:
            break
        time.sleep(pause)
    return results


def from_host(probes: list[ProbeSpec], timeout: float = 2.0, attempts: int = 2) -> list[ProbeResult]:
    """The same probes sent from this machine, as a learner's browser or curl would."""
    def run(command: list[str]) -> str:
        try:
            completed = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                                       timeout=timeout * 2 + 10)
        except subprocess.TimeoutExpired:
            return ""  # every probe of the round counts as failed
        return completed.stdout
    return run_batch(run, probes, timeout, attempts)
