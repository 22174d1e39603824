"""The cluster enforces NetworkPolicies with real packets (on the local provider,
kube-router's firewall controller, which `firstapp up` starts): a deny-all policy blocks
pod-to-pod traffic and deleting it reopens it, an allow rule lets in exactly the pods it
selects, egress isolation without a DNS rule breaks name lookups, and the node itself
still reaches every pod (the kubelet's probes need it).

A policy takes effect a moment after it is applied: each check polls for the expected
outcome (the time it took is printed, never asserted; benchmarks/ measures it)."""

from __future__ import annotations

import sys
import time
import urllib.request
from collections.abc import Callable

import pytest

from course.cluster import Cluster
from course.probe import ProbePod
from course.traffic import Failure, ProbeResult
from tests.cluster.test_hostile_pods import pod, wait_ready

pytestmark = pytest.mark.cluster
SETTLE = 30.0  # seconds a policy change may take to show, far above what kube-router needs


def policy(name: str, selector: dict[str, str], ingress: list[dict] | None = None,
           egress: list[dict] | None = None, types: tuple[str, ...] = ("Ingress",)) -> dict:
    spec: dict = {"podSelector": {"matchLabels": selector} if selector else {}, "policyTypes": list(types)}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}


def eventually(probe: Callable[[], ProbeResult], want_ok: bool, what: str) -> ProbeResult:
    """Probes until the outcome is `want_ok`; fails naming the last result after SETTLE s."""
    started = time.monotonic()
    while True:
        result = probe()
        if result.ok == want_ok:
            print(f"{what}: {time.monotonic() - started:.1f} s", file=sys.stderr)
            return result
        assert time.monotonic() - started < SETTLE, f"{what}: still {result} after {SETTLE:.0f} s"
        time.sleep(0.2)


@pytest.fixture
def server(cluster: Cluster, namespace: str) -> str:
    """A pod labelled app=api serving http on 8080; returns its URL by pod IP."""
    cluster.apply([pod("server", {"app": "api"})], namespace)
    ip = wait_ready(cluster, namespace, ["server"])["server"]
    return f"http://{ip}:8080/healthz"


def test_deny_all_blocks_and_deleting_it_reopens(cluster, namespace, server):
    with ProbePod(cluster, namespace, attempts=1) as client:
        assert client.http(server).ok, "the server does not answer before any policy"
        cluster.apply([policy("deny-all", {})], namespace)
        blocked = eventually(lambda: client.http(server), False, "deny-all blocks")
        assert blocked.failure is Failure.REFUSED, blocked  # kube-router rejects: an answer at once, no timeout
        cluster.networking.delete_namespaced_network_policy("deny-all", namespace)
        eventually(lambda: client.http(server), True, "deleting deny-all reopens")


def test_an_allow_rule_lets_in_exactly_the_pods_it_selects(cluster, namespace, server):
    cluster.apply([policy("deny-all", {}),
                   policy("api-from-clients", {"app": "api"},
                          ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                                    "ports": [{"port": "http"}]}])], namespace)
    with ProbePod(cluster, namespace, attempts=1, labels={"role": "client"}) as allowed, \
            ProbePod(cluster, namespace, attempts=1, labels={"role": "other"}) as other:
        eventually(lambda: other.http(server), False, "a pod the rule does not select is kept out")
        eventually(lambda: allowed.http(server), True, "the selected pod gets in")


def test_egress_isolation_without_a_dns_rule_breaks_lookups(cluster, namespace, server):
    """The mistake checkpoint 4 looks for: egress deny-all, and no rule for DNS."""
    name = "kubernetes.default.svc.cluster.local"
    isolate = policy("client-egress", {"role": "client"}, egress=[], types=("Egress",))
    dns = {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    with ProbePod(cluster, namespace, attempts=1, labels={"role": "client"}) as client:
        assert client.dns(name).ok
        cluster.apply([isolate], namespace)
        eventually(lambda: client.dns(name), False, "egress deny-all breaks DNS")
        cluster.apply([policy("client-egress", {"role": "client"}, egress=[dns], types=("Egress",))], namespace)
        eventually(lambda: client.dns(name), True, "a DNS egress rule mends it")
        assert not client.http(server).ok, "egress allows only DNS, yet the server answered"


def test_the_node_itself_still_reaches_an_isolated_pod(cluster, namespace, server):
    """kube-router accepts traffic from the pod's own node whatever the policies say, as
    the kubelet's probes need: a NetworkPolicy cannot keep the host out."""
    cluster.apply([policy("deny-all", {})], namespace)
    with ProbePod(cluster, namespace, attempts=1) as client:
        eventually(lambda: client.http(server), False, "deny-all blocks pods")
    with urllib.request.urlopen(server, timeout=5) as answer:
        assert answer.status == 200
