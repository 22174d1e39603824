"""Layer 3 in pure terms: which routes to probe and what each should do (the plan),
what the answers mean (`record`), and what a mismatch most likely means (`diagnose`).
Sending the packets is `grader.observe`'s job.

"From outside the cluster" means through a node port on the host (localhost): on the
local provider the host is itself a node and reaches ClusterIPs, so probing a
ClusterIP from the host would prove nothing about exposure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course.model import TIERS, WEB_NODE_PORT, Tier
from course.model import tier as tier_named
from course.traffic import Failure, ProbeResult, ProbeSpec
from grader.findings import Finding
from grader.live import LiveState, Reach, Route
from grader.workloads import dig

IN_CLUSTER, HOST = "probe pod", "host"


@dataclass(frozen=True)
class Probe:
    """How to send the packets of one route: `http` GETs /whoami and reads the tier
    that answered, `redis` sends PING, from the probe pod or the host. A probe
    without `kind` is a route that needs no packets (its outcome is already known)."""

    route: Route
    kind: str  # "http", "redis", or "" (nothing to send)
    address: str  # "http://api:8080/whoami" or "db:6379"
    healthy_is_enough: bool = False  # a 200 from /healthz, not the tier's /whoami

    @property
    def spec(self) -> ProbeSpec:
        return (self.kind, self.address)


def _protocol(tier: Tier) -> str:
    return "redis" if tier.speaks_redis else "http"


def _address(tier: Tier, host: str, port: object) -> str:
    return f"{host}:{port}" if tier.speaks_redis else f"http://{host}:{port}/whoami"


def _probe(source: str, tier: Tier, host: str, port: object, expected: Reach, label: str = "") -> Probe:
    address = _address(tier, host, port)
    return Probe(Route(source, address + label, tier.name, expected), _protocol(tier), address)


def plan(live: LiveState) -> list[Probe]:
    """Checkpoint 3: every tier by Service name, namespace-qualified name, FQDN,
    ClusterIP and pod IP from inside; web's node port (and any of api's or db's) from
    the host."""
    probes: list[Probe] = []
    for tier in TIERS:
        service = live.objects.get(f"Service/{tier.name}")
        ports = [p for p in dig(service, "spec", "ports", default=[]) if isinstance(p, dict)]
        if service is None or not ports:
            probes.append(Probe(Route(IN_CLUSTER, f"{tier.name} (no Service)", tier.name, Reach.ALLOWED), "", ""))
        else:
            port = ports[0].get("port")
            names = [tier.name, f"{tier.name}.{live.namespace}", f"{tier.name}.{live.namespace}.svc.cluster.local"]
            cluster_ip = dig(service, "spec", "clusterIP")
            if cluster_ip and cluster_ip != "None":
                names.append(cluster_ip)
            probes += [_probe(IN_CLUSTER, tier, host, port, Reach.ALLOWED) for host in names]
        pod = next((p for p in live.pods_of(tier.labels) if p.ready and p.ip), None)
        if pod is not None and pod.ip:
            probes.append(_probe(IN_CLUSTER, tier, pod.ip, tier.port, Reach.ALLOWED, f" (pod {pod.name})"))
        probes.extend(_from_outside(tier, ports))
    return probes


def _from_outside(tier: Tier, ports: list[dict[str, Any]]) -> list[Probe]:
    if tier.external:
        return [_probe(HOST, tier, "localhost", WEB_NODE_PORT, Reach.ALLOWED)]
    node_ports = [p["nodePort"] for p in ports if isinstance(p.get("nodePort"), int)]
    if not node_ports:
        return [Probe(Route(HOST, f"localhost (any node port to {tier.name})", tier.name, Reach.BLOCKED,
                            observed=Reach.BLOCKED, detail="no node port: nothing outside the cluster reaches it"),
                      "", "")]
    return [_probe(HOST, tier, "localhost", port, Reach.BLOCKED) for port in node_ports]


def health_plan(live: LiveState) -> list[Probe]:
    """Checkpoint 1: each tier's pod answers its health check on its pod IP."""
    probes = []
    for tier in TIERS:
        pod = next((p for p in live.pods if p.ready and p.ip and not p.deleting
                    and tier.image in {i.removeprefix("docker.io/") for i in p.images}), None)
        if pod is None:
            continue
        address = f"{pod.ip}:{tier.port}" if tier.speaks_redis else f"http://{pod.ip}:{tier.port}/healthz"
        probes.append(Probe(Route(IN_CLUSTER, f"{address} (pod {pod.name})", tier.name, Reach.ALLOWED),
                            _protocol(tier), address, healthy_is_enough=True))
    return probes


def record(probes: Sequence[Probe], results: Sequence[ProbeResult], live: LiveState) -> None:
    """Writes what each probe's answer means into its route: who answered, or why not."""
    own_pods = {pod.name for pod in live.pods}
    for probe, result in zip(probes, results):
        route = probe.route
        if not result.ok:
            route.observed, route.detail, route.failure = Reach.BLOCKED, result.error, result.failure
        elif probe.kind == "redis":
            answered = result.body == "+PONG"
            route.observed = Reach.ALLOWED if answered else Reach.WRONG_TIER
            route.detail = "Redis answered PONG" if answered else f"not Redis: {result.body[:60]!r} answered"
        else:
            who = _whoami(result.body)
            pod, tier = who.get("pod"), who.get("tier")
            route.answered_by = pod if isinstance(pod, str) else None
            if result.status == 200 and route.answered_by and route.answered_by not in own_pods:
                route.observed = Reach.OTHER_NAMESPACE
                route.detail = f"pod {route.answered_by}, not in namespace {live.namespace}, answered"
            elif result.status == 200 and (probe.healthy_is_enough or tier == route.tier):
                route.observed, route.detail = Reach.ALLOWED, f"pod {pod} answered"
            else:
                route.observed = Reach.WRONG_TIER
                route.detail = f"HTTP {result.status}, tier {tier if isinstance(tier, str) else '?'} answered"


def _whoami(body: str) -> dict[str, Any]:
    """A pod's /whoami answer, or {} when it is not a JSON object."""
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def diagnose(route: Route, live: LiveState) -> str:
    """The likely cause of a mismatched route, in the course's terms."""
    tier = tier_named(route.tier)
    service = live.objects.get(f"Service/{tier.name}")
    if route.expected is Reach.BLOCKED:
        return (f"service type: {tier.name} is reachable from outside through a node port; "
                "make it a ClusterIP Service")
    if service is None:
        return f"there is no Service {tier.name} in namespace {live.namespace}"
    if route.source == HOST and dig(service, "spec", "type") != "NodePort":
        return f"service type: web must be a NodePort Service (it is {dig(service, 'spec', 'type', default='ClusterIP')})"
    if route.source == HOST and WEB_NODE_PORT not in [p.get("nodePort") for p in dig(service, "spec", "ports", default=[])
                                                      if isinstance(p, dict)]:
        return f"nodePort: the web Service does not open {WEB_NODE_PORT}"
    if route.observed is Reach.OTHER_NAMESPACE:
        return (f"node port {WEB_NODE_PORT} belongs to another namespace's Service; it serves one namespace "
                f"at a time (delete that Service, or let the lab notebook move the port)")
    if route.observed is Reach.WRONG_TIER:
        return f"selector: another tier answered ({route.detail}); the selector picks the wrong pods"
    pods = live.pods_of(tier.labels)
    endpoints = live.endpoints.get(tier.name, [])
    if pods and not any(p.ready for p in pods):
        return f"readiness: no {tier.name} pod is ready, so the Service has nowhere to send traffic"
    if not any(e.ready for e in endpoints):
        return "selector: the Service's EndpointSlices list no ready pod; its selector matches none"
    if route.failure in (Failure.REFUSED, Failure.RESET):
        return "targetPort: the pods are selected but nothing listens on the port the Service forwards to"
    return f"the route failed: {route.detail}"


def routing_findings(live: LiveState, source: str) -> list[Finding]:
    return [Finding(f"route from {route.source}", route.target,
                    diagnose(route, live), expected=route.expected.value,
                    found=f"{route.observed.value}: {route.detail}")
            for route in live.routes if route.source == source and not route.matches]
