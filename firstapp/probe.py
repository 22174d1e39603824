"""A probe pod: real traffic from inside the cluster, for tests, lessons and the grader.

One pod per use, from the api image (it has Python and is loaded on every provider),
sleeping until told to probe; each probe is a short Python program run with `exec`,
with its own timeout. The pod is removed on exit, whatever happened.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from firstapp.cluster import Cluster, ClusterUnavailable

PROBE_IMAGE = "firstapp/api:1.0"
PROBE_LABEL = "firstapp.probe"

_PROBE_PROGRAM = r"""
import json, socket, sys, urllib.request, urllib.error
kind, target, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
try:
    if kind == "http":
        try:
            with urllib.request.urlopen(target, timeout=timeout) as r:
                out = {"ok": True, "status": r.status, "body": r.read(4096).decode("utf-8", "replace")}
        except urllib.error.HTTPError as e:
            out = {"ok": True, "status": e.code, "body": e.read(4096).decode("utf-8", "replace")}
    elif kind == "tcp":
        host, port = target.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=timeout).close()
        out = {"ok": True}
    elif kind == "dns":
        socket.setdefaulttimeout(timeout)
        out = {"ok": True, "addresses": sorted({a[4][0] for a in socket.getaddrinfo(target, None, socket.AF_INET)})}
except Exception as e:
    reason = getattr(e, "reason", e)
    out = {"ok": False, "error": type(reason).__name__ + ": " + str(reason)}
print(json.dumps(out))
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
            time.sleep(0.3)
        raise ClusterUnavailable(f"the probe pod {self.namespace}/{self.name} did not start in {timeout:.0f} s "
                                 f"(image {PROBE_IMAGE} loaded? `firstapp up` loads it)")

    def __exit__(self, *exc_info) -> None:
        try:
            self.cluster.core.delete_namespaced_pod(self.name, self.namespace, grace_period_seconds=0)
        except ApiException:
            pass  # already gone, or the cluster went away: nothing left to clean

    def _run(self, kind: str, target: str) -> ProbeResult:
        last = ProbeResult(False, error="not probed")
        for attempt in range(self.attempts):
            output = self.cluster.exec(self.namespace, self.name,
                                       ["python3", "-c", _PROBE_PROGRAM, kind, target, str(self.timeout)],
                                       timeout=self.timeout + 10)
            try:
                answer = json.loads(output.strip().splitlines()[-1])
            except (ValueError, IndexError):
                answer = {"ok": False, "error": f"probe output: {output[:200]!r}"}
            last = ProbeResult(answer["ok"], answer.get("status"), answer.get("body", ""),
                               tuple(answer.get("addresses", ())), answer.get("error", ""))
            if last.ok:
                return last
            if attempt + 1 < self.attempts:
                time.sleep(0.5)
        return last

    def http(self, url: str) -> ProbeResult:
        return self._run("http", url)

    def tcp(self, host: str, port: int) -> ProbeResult:
        return self._run("tcp", f"{host}:{port}")

    def dns(self, name: str) -> ProbeResult:
        return self._run("dns", name)
