"""How long a NetworkPolicy change takes to reach the packets, as a learner sees it:
`kubectl apply -f` of a deny-all policy (a whole process), then a client pod's requests
to a server pod until the first one is refused; then `kubectl delete` of the policy
until the first one is answered again. Runs N times on the current cluster and prints
each run and the medians; the machine is named in the output.

    .venv/bin/python benchmarks/network_policy.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable

from course.cluster import Cluster
from course.probe import ProbePod
from course.traffic import ProbeResult

DENY_ALL = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
SERVER = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "server", "labels": {"app": "api"}},
          "spec": {"containers": [{"name": "main", "image": "firstapp/api:1.0", "imagePullPolicy": "IfNotPresent",
                                   "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}


def kubectl(*args: str, stdin: str | None = None) -> None:
    subprocess.run([shutil.which("kubectl") or "kubectl", *args], input=stdin, text=True, check=True,
                   capture_output=True)


def until(send: Callable[[], ProbeResult], want_ok: bool, started: float, limit: float = 60.0) -> float:
    """Seconds from `started` until a request's outcome is `want_ok`."""
    while True:
        if send().ok == want_ok:
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            raise SystemExit(f"no change after {limit:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cluster = Cluster.connect()
    namespace = f"bench-netpol-{uuid.uuid4().hex[:6]}"
    cluster.ensure_namespace(namespace)
    try:
        cluster.apply([SERVER], namespace)
        deadline = time.monotonic() + 120
        while not (pods := cluster.core.list_namespaced_pod(namespace).items) or not pods[0].status.pod_ip \
                or not all(c.ready for c in pods[0].status.container_statuses or []):
            if time.monotonic() > deadline:
                raise SystemExit("the server pod did not become ready in 120 s")
            time.sleep(0.3)
        url = f"http://{pods[0].status.pod_ip}:8080/healthz"
        blocking, opening = [], []
        with ProbePod(cluster, namespace, timeout=1.0, attempts=1) as client:
            send = lambda: client.http(url)  # noqa: E731 - one request, as the client sends it
            for _ in range(runs):
                started = time.monotonic()
                kubectl("-n", namespace, "apply", "-f", "-", stdin=json.dumps(DENY_ALL))
                blocking.append(until(send, False, started))
                started = time.monotonic()
                kubectl("-n", namespace, "delete", "networkpolicy", "deny-all")
                opening.append(until(send, True, started))
                print(f"apply to blocked {blocking[-1]:.2f} s, delete to answered {opening[-1]:.2f} s", flush=True)
    finally:
        cluster.delete_namespace(namespace, wait=0)
    print(f"machine: {platform.node()}, {platform.machine()}, {len(os.sched_getaffinity(0))} cores; "
          f"context {cluster.context}")
    print(f"median over {runs} runs: apply deny-all -> first refused request {statistics.median(blocking):.2f} s; "
          f"delete it -> first answer {statistics.median(opening):.2f} s (each includes kubectl as a process "
          f"and one probe exec, about 0.3 s)")


if __name__ == "__main__":
    main()
