"""Real traffic from inside the cluster (a probe pod) or from this machine, for tests,
lessons and the grader.

One probe pod per use, from the api image (it has Python and is loaded on every
provider), sleeping until told to probe. A batch of probes runs as one short Python
program, concurrently, each with its own timeout, so a grading run costs one `exec`
per round; routes that fail are retried a bounded number of times. The pod is
removed on exit, whatever happened.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from firstapp.cluster import Cluster, ClusterUnavailable

PROBE_IMAGE = "firstapp/api:1.0"
PROBE_LABEL = "firstapp.probe"

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
        return {"ok": False, "error": "unknown probe kind " + kind}
    except Exception as e:
        reason = getattr(e, "reason", e)
        return {"ok": False, "error": type(reason).__name__ + ": " + str(reason)}

with ThreadPoolExecutor(max_workers=16) as pool:
    print(json.dumps(list(pool.map(lambda p: probe(*p), request["probes"]))))
"""


@dataclass
class ProbeResult:
    ok: bool  # the connection (or lookup) succeeded
    status: int | None = None
    body: str = ""
    addresses: tuple[str, ...] = ()
    error: str = ""

    def json(self) -> dict:
        return json.loads(self.body)


Runner = Callable[[list[str]], str]  # runs a command (python3 -c PROGRAM ARG), returns stdout


def _batch(run: Runner, probes: list[tuple[str, str]], timeout: float, attempts: int) -> list[ProbeResult]:
    """Every probe's result; those that fail are sent again, up to `attempts` rounds."""
    results: list[ProbeResult | None] = [None] * len(probes)
    pending = list(range(len(probes)))
    for attempt in range(attempts):
        request = json.dumps({"timeout": timeout, "probes": [probes[i] for i in pending]})
        output = run(["python3", "-c", _PROBE_PROGRAM, request])
        try:
            answers = json.loads(output.strip().splitlines()[-1])
        except (ValueError, IndexError):
            answers = [{"ok": False, "error": f"probe output: {output[-200:]!r}"}] * len(pending)
        for index, answer in zip(pending, answers):
            results[index] = ProbeResult(answer["ok"], answer.get("status"), answer.get("body", ""),
                                         tuple(answer.get("addresses", ())), answer.get("error", ""))
        pending = [i for i in pending if not results[i].ok]
        if not pending or attempt + 1 == attempts:
            break
        time.sleep(0.5)
    return results


def from_host(probes: list[tuple[str, str]], timeout: float = 2.0, attempts: int = 2) -> list[ProbeResult]:
    """The same probes sent from this machine, as a learner's browser or curl would."""
    def run(command: list[str]) -> str:
        completed = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                                   timeout=timeout * 2 + 10)
        return completed.stdout
    return _batch(run, probes, timeout, attempts)


class ProbePod:
    """`with ProbePod(cluster, namespace) as probe: probe.http("http://api:8080/whoami")`"""

    def __init__(self, cluster: Cluster, namespace: str, timeout: float = 2.0, attempts: int = 3) -> None:
        self.cluster, self.namespace = cluster, namespace
        self.timeout, self.attempts = timeout, attempts
        self.name = f"firstapp-probe-{uuid.uuid4().hex[:6]}"

    def __enter__(self) -> "ProbePod":
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name=self.name, labels={PROBE_LABEL: "true"}),
            spec=client.V1PodSpec(
                restart_policy="Never", termination_grace_period_seconds=0,
                automount_service_account_token=False,
                containers=[client.V1Container(
                    name="probe", image=PROBE_IMAGE, image_pull_policy="IfNotPresent",
                    command=["python3", "-c", "import time; time.sleep(3600)"])]))
        try:
            self.cluster.core.create_namespaced_pod(self.namespace, pod)
        except ApiException as error:
            raise ClusterUnavailable(f"cannot create the probe pod in namespace {self.namespace}: "
                                     f"{error.reason}") from None
        try:
            self._wait_running()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_running(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pod = self.cluster.core.read_namespaced_pod(self.name, self.namespace)
            if pod.status.phase == "Running":
                return
            time.sleep(0.2)
        raise ClusterUnavailable(f"the probe pod {self.namespace}/{self.name} did not start in {timeout:.0f} s "
                                 f"(image {PROBE_IMAGE} loaded? `firstapp up` loads it)")

    def __exit__(self, *exc_info) -> None:
        try:
            self.cluster.core.delete_namespaced_pod(self.name, self.namespace, grace_period_seconds=0)
        except Exception:  # noqa: BLE001 - already gone, or the cluster went away: nothing left to clean
            pass

    def batch(self, probes: list[tuple[str, str]], attempts: int | None = None) -> list[ProbeResult]:
        def run(command: list[str]) -> str:
            return self.cluster.exec(self.namespace, self.name, command, timeout=self.timeout * 2 + 10)
        return _batch(run, probes, self.timeout, attempts or self.attempts)

    def http(self, url: str) -> ProbeResult:
        return self.batch([("http", url)])[0]

    def redis(self, host: str, port: int) -> ProbeResult:
        """Sends Redis' inline PING; a db that answers says +PONG in `body`."""
        return self.batch([("redis", f"{host}:{port}")])[0]

    def dns(self, name: str) -> ProbeResult:
        return self.batch([("dns", name)])[0]
