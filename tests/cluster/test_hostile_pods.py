"""Learners' pods are untrusted: on the real cluster, pods that answer garbage, trickle
a byte a second, or claim to be what they are not. A class's batch still reports every
learner, and no forged answer passes a routing or endpoints check.

Hostile pods run the api image (it has Python) with a tiny server of their own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from course.cluster import Cluster, pod_is_ready
from course.model import WEB_NODE_PORT
from course.probe import PROBE_LABEL
from grader.live import Reach
from grader.run import grade_live
from tests.cluster.test_live_grading import deploy, obj, reference

pytestmark = pytest.mark.cluster
FIRSTAPP = str(Path(sys.executable).with_name("firstapp"))

# MODE=garbage: each answer is the next of [], null, {"pod": ["x"]}, JSON nested 2000 deep.
# MODE=trickle: a 200 status line, then one byte a second, for ten minutes.
HOSTILE_SERVER = r"""
import itertools, os, socket, threading, time
GARBAGE = [b"[]", b"null", b'{"pod": ["x"]}', b"[" * 2000 + b"]" * 2000]
turn = itertools.count()
def answer(c):
    try:
        with c:
            c.recv(65536)
            if os.environ["MODE"] == "trickle":
                for byte in b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + b"[" * 600:
                    c.sendall(bytes([byte]))
                    time.sleep(1)
                return
            body = GARBAGE[next(turn) % len(GARBAGE)]
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                      % len(body) + body)
    except OSError:
        pass
server = socket.create_server(("", 8080))
while True:
    connection, _ = server.accept()
    threading.Thread(target=answer, args=(connection,), daemon=True).start()
"""


def pod(name: str, labels: dict[str, str], image: str = "firstapp/api:1.0", mode: str | None = None,
        port: tuple[str, int] = ("http", 8080)) -> dict:
    """A bare pod; with `mode`, running the hostile server instead of the image's own.
    Ready once its port accepts connections: a pod without a readiness probe is Ready as
    soon as it starts, before a cold Python has bound the port, and the first probes then
    meet a refusal instead of the hostile answer under test."""
    container: dict = {"name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                       "ports": [{"name": port[0], "containerPort": port[1], "protocol": "TCP"}],
                       "readinessProbe": {"tcpSocket": {"port": port[1]}, "periodSeconds": 1}}
    if mode:
        container.update(command=["python3", "-c", HOSTILE_SERVER], env=[{"name": "MODE", "value": mode}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"terminationGracePeriodSeconds": 0, "automountServiceAccountToken": False,
                     "containers": [container]}}


def service(name: str, selector: dict[str, str] | None, port: int = 8080, port_name: str = "http",
            type_: str = "ClusterIP") -> dict:
    spec: dict = {"type": type_, "ports": [{"name": port_name, "port": port, "targetPort": port_name}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def wait_ready(cluster: Cluster, namespace: str, names: list[str], timeout: float = 120.0) -> dict[str, str]:
    """Waits until the named pods are ready; returns each one's IP."""
    deadline = time.monotonic() + timeout
    while True:
        pods = {p.metadata.name: p for p in cluster.core.list_namespaced_pod(namespace).items}
        if all(n in pods and pod_is_ready(pods[n]) and pods[n].status.pod_ip for n in names):
            return {n: pods[n].status.pod_ip for n in names}
        assert time.monotonic() < deadline, f"pods {names} not ready in {timeout:.0f} s in {namespace}"
        time.sleep(0.3)


def routes(result, tier: str, source: str = "probe pod") -> list:
    return [r for r in result.routes if r.tier == tier and r.source == source and r.observed is not Reach.NOT_PROBED]


def failed(result) -> dict[str, str]:
    return {c.id: c.hint for c in result.checks if not c.passed}


def test_a_class_batch_reports_everyone_despite_garbage_and_a_trickle(cluster, tmp_path):
    key, value = "firstapp-test-hostile", uuid.uuid4().hex[:8]
    good, garbage, trickle = (f"hostile-{kind}-{value}" for kind in ("good", "garbage", "trickle"))
    try:
        for name in (good, garbage, trickle):
            cluster.ensure_namespace(name)
            cluster.core.patch_namespace(name, {"metadata": {"labels": {key: value}}})
        deploy(cluster, good, reference(), tmp_path=tmp_path)
        cluster.apply([service("api", {"app": "api"}), pod("api-garbage", {"app": "api"}, mode="garbage")], garbage)
        # api as a NodePort: the host's probe meets the trickle too
        cluster.apply([service("api", {"app": "api"}, type_="NodePort"),
                       pod("api-trickle", {"app": "api"}, mode="trickle")], trickle)
        wait_ready(cluster, garbage, ["api-garbage"])
        wait_ready(cluster, trickle, ["api-trickle"])
        started = time.monotonic()
        run = subprocess.run([FIRSTAPP, "grade", "checkpoint-3", "--all-namespaces", "--selector", f"{key}={value}",
                              "--format", "json"], capture_output=True, text=True, timeout=240)
        took = time.monotonic() - started
        assert run.returncode == 1 and "Traceback" not in run.stderr + run.stdout, run.stderr
        report = {entry["namespace"]: entry for entry in json.loads(run.stdout)}
        assert set(report) == {good, garbage, trickle}
        assert all("error" not in entry for entry in report.values()), report  # every learner graded
        assert report[good]["score"] == report[good]["max_score"] == 19, report[good]
        assert took < 120, took  # a trickle costs its own probes' deadline, not the class's time

        def api_routes(namespace: str, source: str = "probe pod") -> list[dict]:
            return [r for r in report[namespace]["routes"] if r["tier"] == "api" and r["from"] == source]

        seen = [(r["to"], r["observed"], r["detail"]) for r in api_routes(garbage)]
        assert seen and all(observed == "wrong tier" for _, observed, _ in seen), seen
        assert all("not a /whoami answer" in r["detail"] for r in api_routes(garbage)), api_routes(garbage)
        assert len({r["detail"].rsplit(":", 1)[-1] for r in api_routes(garbage)}) > 1  # several kinds of garbage
        assert api_routes(trickle) and all(r["observed"] == "bad answer" and "SlowAnswer" in r["detail"]
                                           for r in api_routes(trickle)), api_routes(trickle)
        outside = api_routes(trickle, "host")
        assert outside and outside[0]["observed"] == "bad answer" and outside[0]["expected"] == "blocked"
        for name, cause in ((garbage, "selector: another tier answered"), (trickle, "bad answer")):
            check = next(c for c in report[name]["checks"] if c["id"] == "routing-in-cluster")
            assert not check["passed"] and cause in check["hint"], check
        for name in (good, garbage, trickle):
            assert not cluster.core.list_namespaced_pod(name, label_selector=PROBE_LABEL).items, name
    finally:
        for name in (good, garbage, trickle):
            cluster.delete_namespace(name, wait=0)


def test_a_pod_saying_it_is_the_tier_is_not_believed(cluster, namespace):
    """The api Service selects a pod labelled app: impostor that runs the api image:
    it says tier api, and the routing check reads its labels instead."""
    cluster.apply([service("api", {"app": "impostor"}), pod("impostor", {"app": "impostor"})], namespace)
    wait_ready(cluster, namespace, ["impostor"])
    result = grade_live("checkpoint-3", namespace, cluster=cluster)
    api = routes(result, "api")
    assert api and all(r.observed is Reach.WRONG_TIER and "tier impostor answered (pod impostor)" in r.detail
                       for r in api), [(r.target, r.detail) for r in api]
    assert "routing-in-cluster" in failed(result)


def test_a_bare_pod_named_like_another_namespaces_pod_does_not_pass_the_node_port(cluster, namespace, tmp_path):
    """Namespace `holder` holds node port 30080; the learner names a bare pod of their
    own like the holder's web pod. Its IP is not the answer's: another namespace answered."""
    holder = f"test-holder-{uuid.uuid4().hex[:6]}"
    try:
        cluster.ensure_namespace(holder)
        docs = reference()
        deploy(cluster, holder, [obj(docs, "Deployment", "web"), obj(docs, "Service", "web")], tmp_path=tmp_path)
        holder_pod = cluster.core.list_namespaced_pod(holder, label_selector="app=web").items[0].metadata.name
        cluster.apply([service("web", {"app": "web"}), pod(holder_pod, {"app": "web"}, image="firstapp/web:1.0")],
                      namespace)
        wait_ready(cluster, namespace, [holder_pod])
        result = grade_live("checkpoint-3", namespace, cluster=cluster)
        host = routes(result, "web", "host")
        assert host[0].target == f"http://localhost:{WEB_NODE_PORT}/whoami"
        assert host[0].observed is Reach.OTHER_NAMESPACE and holder_pod in host[0].detail, host[0]
        assert "not in namespace" in failed(result)["routing-from-outside"]  # never a pass
        assert all(r.observed is Reach.ALLOWED for r in routes(result, "web"))  # its own web pod is real
    finally:
        cluster.delete_namespace(holder, wait=0)


def graded_redis_behind_db_service(cluster, namespace, app: str, pod_name: str):
    """A db Service selecting one Redis pod labelled `app`; the grade and its db routes."""
    cluster.apply([service("db", {"app": app}, port=6379, port_name="redis"),
                   pod(pod_name, {"app": app}, image="firstapp/db:1.0", port=("redis", 6379))], namespace)
    wait_ready(cluster, namespace, [pod_name])
    result = grade_live("checkpoint-3", namespace, cluster=cluster)
    return result, routes(result, "db")


def test_a_pong_from_a_redis_that_is_no_db_pod_fails(cluster, namespace):
    """No db pod in the namespace: the db Service selects a Redis labelled app: cache."""
    result, db = graded_redis_behind_db_service(cluster, namespace, "cache", "cache")
    assert db and all(r.observed is Reach.WRONG_TIER and "PONG" in r.detail for r in db), db
    assert "no ready db pod" in failed(result)["routing-in-cluster"]


def test_a_clusterip_db_is_proven_by_its_redis_run_id(cluster, namespace):
    """The honest counterpart: PONG through a ClusterIP names nobody, the run_id does."""
    _, db = graded_redis_behind_db_service(cluster, namespace, "db", "db-0")
    assert len(db) == 5 and all(r.observed is Reach.ALLOWED and "pod db-0" in r.detail for r in db), db


def test_a_selectorless_service_with_a_hand_made_endpointslice_fails_the_endpoints_check(cluster, namespace):
    cluster.apply([pod("api-0", {"app": "api"}), service("api", None)], namespace)
    ip = wait_ready(cluster, namespace, ["api-0"])["api-0"]
    cluster.apply([{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": "api-by-hand", "labels": {"kubernetes.io/service-name": "api"}},
                    "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                    "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}]}], namespace)
    result = grade_live("checkpoint-3", namespace, cluster=cluster)
    hints = failed(result)
    assert "no selector" in hints["api-endpoints"] and "hand-made" in hints["api-endpoints"]
    assert "api-service-selector" in hints
    # the packets are real: traffic through the hand-made slice does reach the api pod
    assert any(r.observed is Reach.ALLOWED for r in routes(result, "api"))
