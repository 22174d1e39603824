"""Layer 3 in pure terms: which routes to probe for checkpoint 3 and what each should
do (the plan), and what a mismatch most likely means (the diagnosis). Sending the
packets is `grader.observe`'s job.

"From outside the cluster" means through a node port on the host (localhost): on the
local provider the host is itself a node and reaches ClusterIPs, so probing a
ClusterIP from the host would prove nothing about exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.course import TIERS, WEB_NODE_PORT, Tier
from grader.findings import Finding
from grader.live import ALLOWED, BLOCKED, NOT_PROBED, LiveState, Route
from grader.workloads import dig

IN_CLUSTER, HOST = "probe pod", "host"


@dataclass(frozen=True)
class Probe:
    """How to send the packets of one route: `http` GETs /whoami and reads the tier
    that answered, `redis` sends PING, from the probe pod or the host."""

    route: Route
    kind: str  # "http" or "redis"
    address: str  # "http://api:8080/whoami" or "db:6379"
    healthy_is_enough: bool = False  # a 200 from /healthz, not the tier's /whoami


def _protocol(tier: Tier) -> str:
    return "redis" if tier.name == "db" else "http"


def _address(tier: Tier, host: str, port: int) -> str:
    return f"{host}:{port}" if _protocol(tier) == "redis" else f"http://{host}:{port}/whoami"


def plan(live: LiveState) -> list[Probe]:
    probes: list[Probe] = []
    for tier in TIERS:
        service = live.objects.get(f"Service/{tier.name}")
        ports = [p for p in dig(service, "spec", "ports", default=[]) if isinstance(p, dict)]
        if service is None or not ports:
            probes.append(Probe(Route(IN_CLUSTER, f"{tier.name} (no Service)", tier.name, ALLOWED), "", ""))
        else:
            port = ports[0].get("port")
            names = [tier.name, f"{tier.name}.{live.namespace}", f"{tier.name}.{live.namespace}.svc.cluster.local"]
            cluster_ip = dig(service, "spec", "clusterIP")
            if cluster_ip and cluster_ip != "None":
                names.append(cluster_ip)
            for host in names:
                address = _address(tier, host, port)
                probes.append(Probe(Route(IN_CLUSTER, address, tier.name, ALLOWED), _protocol(tier), address))
        pod = next((p for p in live.pods_of(tier.labels) if p.ready and p.ip), None)
        if pod is not None:
            address = _address(tier, pod.ip, tier.port)
            probes.append(Probe(Route(IN_CLUSTER, f"{address} (pod {pod.name})", tier.name, ALLOWED),
                                _protocol(tier), address))
        probes.extend(_from_outside(tier, service, ports))
    return probes


def _from_outside(tier: Tier, service: dict | None, ports: list[dict]) -> list[Probe]:
    if tier.external:
        address = _address(tier, "localhost", WEB_NODE_PORT)
        return [Probe(Route(HOST, address, tier.name, ALLOWED), _protocol(tier), address)]
    node_ports = [p["nodePort"] for p in ports if isinstance(p.get("nodePort"), int)]
    if not node_ports:
        return [Probe(Route(HOST, f"localhost (any node port to {tier.name})", tier.name, BLOCKED,
                            observed=BLOCKED, detail="no node port: nothing outside the cluster reaches it"),
                      "", "")]
    return [Probe(Route(HOST, _address(tier, "localhost", port), tier.name, BLOCKED), _protocol(tier),
                  _address(tier, "localhost", port)) for port in node_ports]


def health_plan(live: LiveState) -> list[Probe]:
    """Checkpoint 1: each tier's pod answers its health check on its pod IP."""
    probes = []
    for tier in TIERS:
        image = f"firstapp/{tier.name}:1.0"
        pod = next((p for p in live.pods if p.ready and p.ip and not p.deleting
                    and image in {i.removeprefix("docker.io/") for i in p.images}), None)
        if pod is None:
            continue
        if _protocol(tier) == "redis":
            address = f"{pod.ip}:{tier.port}"
        else:
            address = f"http://{pod.ip}:{tier.port}/healthz"
        probes.append(Probe(Route(IN_CLUSTER, f"{address} (pod {pod.name})", tier.name, ALLOWED),
                            _protocol(tier), address, healthy_is_enough=True))
    return probes


def diagnose(route: Route, live: LiveState) -> str:
    """The likely cause of a mismatched route, in the course's terms."""
    tier = next(t for t in TIERS if t.name == route.tier)
    service = live.objects.get(f"Service/{tier.name}")
    if route.expected == BLOCKED:
        return (f"service type: {tier.name} is reachable from outside through a node port; "
                "make it a ClusterIP Service")
    if service is None:
        return f"there is no Service {tier.name} in namespace {live.namespace}"
    if route.source == HOST and dig(service, "spec", "type") != "NodePort":
        return f"service type: web must be a NodePort Service (it is {dig(service, 'spec', 'type', default='ClusterIP')})"
    if route.source == HOST and WEB_NODE_PORT not in [p.get("nodePort") for p in dig(service, "spec", "ports", default=[])]:
        return f"nodePort: the web Service does not open {WEB_NODE_PORT}"
    if route.observed == "other namespace":
        return (f"node port {WEB_NODE_PORT} belongs to another namespace's Service; it serves one namespace "
                f"at a time (delete that Service, or let the lab notebook move the port)")
    if "answered" in route.detail:
        return f"selector: another tier answered ({route.detail}); the selector picks the wrong pods"
    pods = live.pods_of(tier.labels)
    endpoints = live.endpoints.get(tier.name, [])
    if pods and not any(p.ready for p in pods):
        return f"readiness: no {tier.name} pod is ready, so the Service has nowhere to send traffic"
    if not any(e.ready for e in endpoints):
        return "selector: the Service's EndpointSlices list no ready pod; its selector matches none"
    if "refused" in route.detail.lower() or "reset" in route.detail.lower():
        return "targetPort: the pods are selected but nothing listens on the port the Service forwards to"
    return f"the route failed: {route.detail}"


def routing_findings(live: LiveState, source: str) -> list[Finding]:
    return [Finding(f"route from {route.source}", route.target,
                    diagnose(route, live), expected=route.expected, found=f"{route.observed}: {route.detail}")
            for route in live.routes if route.source == source and not route.matches]
