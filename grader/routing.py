"""Layer 3 in pure terms: which routes to probe and what each should do (the plan),
what the answers mean (`record`), and what a mismatch most likely means (`diagnose`).
Sending the packets is `grader.observe`'s job.

"From outside the cluster" means through a node port on the host (localhost, or the
node's address for a learner of a class): on the
local provider the host is itself a node and reaches ClusterIPs, so probing a
ClusterIP from the host would prove nothing about exposure. From checkpoint 4 on, the
way in is the ingress controller on port 80, asked for the learner's ingress host
(`LiveState.host`: firstapp.localhost alone, <learner>.firstapp.localhost in a class).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from course.model import TIERS, Tier
from course.model import tier as tier_named
from course.place import INGRESS_ADDRESS
from course.traffic import SHOWN_BODY, Failure, ProbeResult, ProbeSpec, is_ip
from grader import route_rules
from grader.findings import Finding, shown
from grader.live import LiveState, Pod, Reach, Route, has_labels
from grader.workloads import dig

IN_CLUSTER, HOST, VIA_INGRESS = "probe pod", "host", "host, through the ingress controller"
SHOWN_TEXT = 60  # characters of a learner's answer a route's detail quotes


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
    ClusterIP and pod IP (one pod's; every db pod's) from inside; web's node port (and
    any of api's or db's) from the host."""
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
        ready = [p for p in live.pods_of(tier.labels) if p.ready and p.ip]
        # Every db pod, on its own IP: PONG says nothing about who answered, so each db
        # pod's Redis run_id is learnt here, and a Service's answer must carry one of them.
        for pod in ready if tier.speaks_redis else ready[:1]:
            probes.append(_probe(IN_CLUSTER, tier, pod.ip or "", tier.port, Reach.ALLOWED, f" (pod {pod.name})"))
        probes.extend(_from_outside(tier, ports, live))
    return probes


def _from_outside(tier: Tier, ports: list[dict[str, Any]], live: LiveState) -> list[Probe]:
    """web on the learner's node port, and every node port api or db opens, at the
    address the learner types (localhost solo; the node's address in a class)."""
    host = live.node_address
    if tier.external:
        return [_probe(HOST, tier, host, live.node_port, Reach.ALLOWED)]
    node_ports = [p["nodePort"] for p in ports if isinstance(p.get("nodePort"), int)]
    if not node_ports:
        return [Probe(Route(HOST, f"{host} (any node port to {tier.name})", tier.name, Reach.BLOCKED,
                            observed=Reach.BLOCKED, detail="no node port: nothing outside the cluster reaches it"),
                      "", "")]
    return [_probe(HOST, tier, host, port, Reach.BLOCKED) for port in node_ports]


def publication_plan(live: LiveState) -> list[Probe]:
    """Checkpoint 4: web through the ingress controller (port 80 of this machine's
    loopback, where *.localhost names lead, asked for the learner's ingress host), and
    every node port api or db opens, at the node's address. Inside the cluster, the
    connectivity truth table (`grader.connectivity`) does the probing."""
    address = f"http://{live.host}/whoami"
    probes = [Probe(Route(VIA_INGRESS, f"http://{live.host}/ (port 80 of {INGRESS_ADDRESS})", "web",
                          Reach.ALLOWED), "http", address)]
    for tier in (t for t in TIERS if not t.external):
        service = live.objects.get(f"Service/{tier.name}")
        probes += _from_outside(tier, [p for p in dig(service, "spec", "ports", default=[]) if isinstance(p, dict)], live)
    return probes


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
    """Writes what each probe's answer means into its route: who answered, or why not.

    Answers come from the learner's pods, so none is believed on its own word: the pod
    that answered is the pod of this namespace at the address the connection reached
    (a pod IP, a headless Service's name), else the pod whose name AND IP the /whoami
    answer gives; its tier is its `app` label, never what it says. Through a Service,
    an answer counts only if every ready endpoint of the Service (hand-made slices
    included) is a ready pod of the tier. A Redis PONG names nobody: it counts when it
    came from a db pod's address, or carries the run_id of a db pod's Redis (each db
    pod is probed on its own IP). Record host and in-cluster probes in one call, so the
    host's answers are checked against what the pods said."""
    servers = {result.server_id: pod for probe, result in zip(probes, results)
               if probe.kind == "redis" and result.ok and result.body == "+PONG" and result.server_id
               and (pod := _reached_pod(probe, result, live)) is not None}
    for probe, result in zip(probes, results):
        route = probe.route
        if not result.ok:
            answered = result.failure is not None and result.failure.answered
            route.observed = Reach.BAD_ANSWER if answered else Reach.BLOCKED
            route.detail, route.failure = result.error, result.failure
        elif probe.kind == "redis":
            _record_redis(probe, result, live, servers)
        else:
            _record_http(probe, result, live)


def _record_http(probe: Probe, result: ProbeResult, live: LiveState) -> None:
    route, tier = probe.route, tier_named(probe.route.tier)
    who = _whoami(result.body)
    pod = _reached_pod(probe, result, live)
    if pod is None and probe.healthy_is_enough:
        route.observed, route.detail = Reach.WRONG_TIER, f"HTTP {result.status}, from no pod of namespace {live.namespace}"
        return
    if pod is None:
        if who is None:
            route.observed = Reach.WRONG_TIER
            route.detail = f"HTTP {result.status}, not a /whoami answer (no pod name and IP): {shown(result.body, SHOWN_TEXT)}"
            return
        name, ip = who
        pod = next((p for p in live.pods if p.name == name and p.ip == ip), None)
        if pod is None:
            holder = next((p for p in live.pods if p.ip == ip), None)
            route.answered_by = name
            if holder is not None:
                route.observed = Reach.WRONG_TIER
                route.detail = f"an answer claiming to be pod {shown(name, SHOWN_TEXT)} at {ip}, which is pod {holder.name}'s IP"
                route.cause = (f"the answer's identity does not hold: {ip} is pod {holder.name}, not {shown(name, SHOWN_TEXT)}; "
                               f"the {tier.name} Service must select the {tier.name} pods, which answer as themselves")
            else:
                route.observed = Reach.OTHER_NAMESPACE
                route.detail = f"pod {shown(name, SHOWN_TEXT)} ({ip}), not in namespace {live.namespace}, answered"
            return
    route.answered_by = pod.name
    if probe.healthy_is_enough:
        allowed = result.status == 200
        route.observed = Reach.ALLOWED if allowed else Reach.WRONG_TIER
        route.detail = f"pod {pod.name} answered" + ("" if allowed else f" HTTP {result.status}")
    elif who is None:
        route.observed = Reach.WRONG_TIER
        route.detail = f"HTTP {result.status} from pod {pod.name}, not a /whoami answer: {shown(result.body, SHOWN_TEXT)}"
    elif not has_labels(pod, tier.labels):
        route.observed = Reach.WRONG_TIER
        route.detail = f"HTTP {result.status}, tier {shown(pod.labels.get('app', '?'), SHOWN_TEXT)} answered (pod {pod.name})"
    elif result.status != 200:
        route.observed, route.detail = Reach.WRONG_TIER, f"HTTP {result.status} from pod {pod.name}"
    elif not _direct(probe, live) and (problem := _service_problem(live, tier)):
        # an answer can claim a real pod's name and IP; it can only have come from one if
        # every address the Service sends traffic to is one of the tier's ready pods
        route.observed, route.detail = Reach.WRONG_TIER, f"pod {pod.name} answered, but {problem}"
        route.cause = f"selector: {problem}"
    else:
        route.observed, route.detail = Reach.ALLOWED, f"pod {pod.name} answered"


def _record_redis(probe: Probe, result: ProbeResult, live: LiveState, servers: dict[str, Pod]) -> None:
    route, tier = probe.route, tier_named(probe.route.tier)
    if result.body != "+PONG":
        route.observed, route.detail = Reach.WRONG_TIER, f"not Redis: {result.body[:60]!r} answered"
        return
    pod = _reached_pod(probe, result, live)
    if pod is None:
        pod = servers.get(result.server_id) if result.server_id else None
    if pod is None:
        route.observed = Reach.WRONG_TIER
        route.detail = f"Redis answered PONG, but not as a {tier.name} pod of namespace {live.namespace}"
        if not any(p.ready for p in live.pods_of(tier.labels)):
            why = f"namespace {live.namespace} has no ready {tier.name} pod"
        elif not result.server_id:
            why = "it did not say which Redis it is (INFO server: run_id)"
        else:
            why = f"its Redis (run_id {result.server_id[:8]}...) is none of the {tier.name} pods' (each probed on its IP)"
        route.cause = f"an answer not from this namespace's {tier.name} pods: {why}"
        return
    route.answered_by = pod.name
    if not probe.healthy_is_enough and not has_labels(pod, tier.labels):
        route.observed = Reach.WRONG_TIER
        route.detail = f"Redis on pod {pod.name} (tier {shown(pod.labels.get('app', '?'), SHOWN_TEXT)}) answered PONG"
        return
    problem = "" if probe.healthy_is_enough or _direct(probe, live) else _service_problem(live, tier)
    if problem:
        route.observed, route.detail = Reach.WRONG_TIER, f"Redis on pod {pod.name} answered PONG, but {problem}"
        route.cause = f"selector: {problem}"
        return
    route.observed, route.detail = Reach.ALLOWED, f"Redis on pod {pod.name} answered PONG"


def _service_problem(live: LiveState, tier: Tier) -> str:
    """Why traffic sent to the tier's Service may reach something else than its ready
    pods ("" when every ready endpoint, hand-made slices included, is one of them)."""
    ready = {p.ip for p in live.pods_of(tier.labels) if p.ready and p.ip}
    if not ready:
        return f"namespace {live.namespace} has no ready {tier.name} pod"
    listed = {e.address for e in live.endpoints.get(tier.name, []) if e.ready}
    if not listed:
        return f"Service {tier.name} lists no ready endpoint"
    if others := sorted(listed - ready):
        return f"Service {tier.name} also sends traffic to {', '.join(others[:3])}, no ready {tier.name} pod"
    return ""


def _literal_ip(probe: Probe) -> str | None:
    host = urlsplit(probe.address).hostname if probe.kind == "http" else probe.address.rpartition(":")[0].strip("[]")
    return host if is_ip(host) else None


def _reached_pod(probe: Probe, result: ProbeResult, live: LiveState) -> Pod | None:
    """The pod of this namespace at the address the connection reached, when that is
    a pod IP (the one probed, or a headless Service's), and no other pod shares it."""
    ip = result.peer or _literal_ip(probe)
    at = [p for p in live.pods if ip and p.ip == ip]
    return at[0] if len(at) == 1 else None


def _direct(probe: Probe, live: LiveState) -> bool:
    """The probe went to a pod IP of this namespace, not through a Service."""
    ip = _literal_ip(probe)
    return ip is not None and any(p.ip == ip for p in live.pods)


MAX_JSON_DEPTH = 32


def _whoami(body: str) -> tuple[str, str] | None:
    """The pod name and IP a /whoami answer claims, or None when the body is not one: not
    a JSON object with a pod name and an IP address of the right shape (`{"pod": ["x"]}`
    is not), or nested too deep to be one (the body is parsed only after its depth is
    counted)."""
    if len(body) > SHOWN_BODY or _depth(body) > MAX_JSON_DEPTH:
        return None
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    name, ip = answer.get("pod"), answer.get("ip")
    if isinstance(name, str) and 0 < len(name) <= 253 and is_ip(ip):
        return name, ip
    return None


def _depth(text: str) -> int:
    """How deep JSON text nests its arrays and objects (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def diagnose(route: Route, live: LiveState) -> str:
    """The likely cause of a mismatched route, in the course's terms."""
    tier = tier_named(route.tier)
    service = live.objects.get(f"Service/{tier.name}")
    if route.expected is Reach.BLOCKED:
        return (f"service type: {tier.name} is reachable from outside through a node port; "
                "make it a ClusterIP Service")
    if service is None:
        return f"there is no Service {tier.name} in namespace {live.namespace}"
    if route.source == VIA_INGRESS:
        return _ingress_problem(route, live)
    if route.source == HOST and dig(service, "spec", "type") != "NodePort":
        return f"service type: web must be a NodePort Service (it is {dig(service, 'spec', 'type', default='ClusterIP')})"
    if route.source == HOST and live.node_port not in [p.get("nodePort") for p in dig(service, "spec", "ports", default=[])
                                                       if isinstance(p, dict)]:
        return f"nodePort: the web Service does not open {live.node_port}"
    if route.observed is Reach.OTHER_NAMESPACE and route.source == HOST:
        return (f"node port {live.node_port} belongs to another namespace's Service; it serves one namespace "
                f"at a time (delete that Service, or let the lab notebook move the port)")
    if route.observed is Reach.OTHER_NAMESPACE:
        return (f"another namespace's pod answered ({route.detail}); Service {tier.name} must send traffic to "
                f"the {tier.name} pods of namespace {live.namespace}")
    if route.observed is Reach.BAD_ANSWER:
        return (f"bad answer ({route.detail}): what Service {tier.name} forwards to is not the {tier.name} server, "
                f"which answers at once; check the selector and targetPort")
    if route.observed is Reach.WRONG_TIER:
        return route.cause or f"selector: another tier answered ({route.detail}); the selector picks the wrong pods"
    pods = live.pods_of(tier.labels)
    endpoints = live.managed_endpoints(tier.name)
    if pods and not any(p.ready for p in pods):
        return f"readiness: no {tier.name} pod is ready, so the Service has nowhere to send traffic"
    if not any(e.ready for e in endpoints):
        return "selector: the Service's EndpointSlices list no ready pod; its selector matches none"
    if route.failure in (Failure.REFUSED, Failure.RESET):
        return "targetPort: the pods are selected but nothing listens on the port the Service forwards to"
    return f"the route failed: {route.detail}"


def _ingress_problem(route: Route, live: LiveState) -> str:
    """Why web did not answer through the ingress controller."""
    ingresses = [ref for ref in live.objects if ref.startswith("Ingress/")]
    if not ingresses:
        return f"no Ingress in namespace {live.namespace}: nothing tells the controller to route {live.host}"
    if route.observed is Reach.BLOCKED:
        return (f"the ingress controller did not answer on port 80 of {INGRESS_ADDRESS} ({route.detail}); "
                "is it running (`firstapp status`)?")
    if route.observed is Reach.OTHER_NAMESPACE:
        return (f"another namespace's Ingress claims {live.host} and the controller routes it there; delete "
                "that Ingress (`kubectl get ingress -A`)")
    answered = re.match(r"HTTP (\d{3})\b", route.detail)
    status = answered.group(1) if answered else ""
    if status == "404":
        return (f"the controller has no route for {live.host}: check the Ingress' ingressClassName "
                f"({route_rules.INGRESS_CLASS}) and host ({live.host})")
    if status == "503":
        return ("the controller has the route, but no ready web pod behind it: check the backend's Service name "
                "and port, and that web's pods are ready")
    return route.cause or f"the route failed: {route.detail}"


def routing_findings(live: LiveState, source: str) -> list[Finding]:
    return [Finding(f"route from {route.source}", route.target,
                    diagnose(route, live), expected=route.expected.value,
                    found=f"{route.observed.value}: {route.detail}")
            for route in live.routes if route.source == source and not route.matches]
