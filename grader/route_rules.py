"""Checkpoint 4, "publish it": an Ingress (networking.k8s.io/v1), or a Gateway API
HTTPRoute (gateway.networking.k8s.io/v1) as the alternative, sends the learner's host's
`/` to Service web on a port that Service defines, and publishes no other tier: the
outside reaches web and nothing else (api and db stay inside, as the NetworkPolicies
intend). The host is the graded place's (`course.place.ingress_host`: `HOST`,
firstapp.localhost, alone; <learner>.firstapp.localhost in a class, since the controller
routes a host to one namespace only), passed in as `host`. Pure functions of a
`Submission` and that host; each rule returns the findings that make it fail.

A backend names a Service port, never a container port: an Ingress by the Service
port's `name` or `number`, an HTTPRoute by its number only (Gateway API's `port`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from course.model import TIERS
from course.place import SOLO_HOST
from grader.findings import Finding, shown
from grader.loading import Manifest
from grader.submission import Submission
from grader.workloads import dig, listed, mapping

INGRESS_NAME = "web"
INGRESS_CLASS = "haproxy"
HOST = SOLO_HOST  # the solo learner's; a class learner's is their own (`host` of the rules below)
GATEWAY_GROUP = "gateway.networking.k8s.io"
HTTPROUTE_VERSIONS = (f"{GATEWAY_GROUP}/v1", f"{GATEWAY_GROUP}/v1beta1")
_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


@dataclass(frozen=True)
class Route:
    """One path the publication must serve, and the Service (a tier) it goes to."""

    path: str
    service: str


ROUTES: tuple[Route, ...] = (Route("/", "web"),)
INTERNAL_TIERS = tuple(t.name for t in TIERS if not t.external)  # never published


def _finding(manifest: Manifest, path: str, problem: str, expected: Any = None, found: Any = None) -> Finding:
    return Finding(manifest.ref, path, problem, expected, found, where=str(manifest.source))


def _same_path(written: Any, wanted: str) -> bool:
    """A prefix path as both APIs read it: a trailing slash does not count."""
    return isinstance(written, str) and (written.rstrip("/") or "/") == (wanted.rstrip("/") or "/")


def service_ports_text(service: Manifest) -> str:
    ports = [p for p in listed(service.body, "spec", "ports") if isinstance(p, dict)]
    return ", ".join(f"{p.get('name') or '(unnamed)'}={p.get('port')}" for p in ports) or "none"


def service_port(service: Manifest, number: Any = None, name: Any = None) -> dict[str, Any] | None:
    """The Service port a backend names: by `port` number, or by `name`."""
    for port in listed(service.body, "spec", "ports"):
        if not isinstance(port, dict):
            continue
        if number is not None and not isinstance(number, bool) and port.get("port") == number:
            return port
        if name is not None and port.get("name") == name:
            return port
    return None


def _missing_service(manifest: Manifest, path: str, name: Any) -> Finding:
    return _finding(manifest, path, (
        f"no Service named {shown(name)!r} in the submission: the controller would answer 503"),
        expected="a Service of the submission", found=name)


# ---- Ingress ---------------------------------------------------------------------------


def _ingress(submission: Submission) -> Manifest | None:
    ingresses = [m for m in submission.manifests if m.kind == "Ingress"]
    return next((m for m in ingresses if m.name == INGRESS_NAME), None)


def _missing_ingress(submission: Submission) -> list[Finding]:
    others = [m.ref for m in submission.manifests if m.kind == "Ingress"]
    return [Finding(f"Ingress/{INGRESS_NAME}", "", (
        f"missing: no Ingress named {INGRESS_NAME!r}" + (f" (found {', '.join(others)})" if others else "")),
        expected=f"an Ingress named {INGRESS_NAME}", found=", ".join(others) or "none")]


def ingress_class(submission: Submission) -> list[Finding]:
    """spec.ingressClassName names the course's controller: without a class, no
    controller is bound to claim the Ingress."""
    ingress = _ingress(submission)
    if ingress is None:
        return _missing_ingress(submission)
    written = dig(ingress.body, "spec", "ingressClassName")
    if written == INGRESS_CLASS:
        return []
    annotation = mapping(ingress.body, "metadata", "annotations").get(_CLASS_ANNOTATION)
    if written is None and annotation is not None:
        return [_finding(ingress, f"metadata.annotations.{_CLASS_ANNOTATION}", (
            "the annotation is deprecated since Kubernetes 1.18: name the class in spec.ingressClassName"),
            expected=f"spec.ingressClassName: {INGRESS_CLASS}", found=annotation)]
    if written is None:
        return [_finding(ingress, "spec.ingressClassName", (
            "not set: only a default IngressClass's controller would claim this Ingress, and the course's has none"),
            expected=INGRESS_CLASS, found=None)]
    return [_finding(ingress, "spec.ingressClassName", (
        f"no controller of that class runs here; the course's ingress controller is {INGRESS_CLASS}"),
        expected=INGRESS_CLASS, found=written)]


def _published_as(host: str) -> str:
    """Why the host is this one, said where a rule names another."""
    if host == HOST:
        return f"the app is published as {host}"
    return (f"the app is published as {host}, your own host in this class (the ingress controller routes a host "
            "to one namespace only)")


def ingress_host(submission: Submission, host: str = HOST) -> list[Finding]:
    """A rule of the Ingress is for `host`."""
    ingress = _ingress(submission)
    if ingress is None:
        return _missing_ingress(submission)
    rules = listed(ingress.body, "spec", "rules")
    if any(dig(rule, "host") == host for rule in rules):
        return []
    if not rules:
        return [_finding(ingress, "spec.rules", "no rules: nothing is routed by host and path",
                         expected=f"a rule for host {host}", found=None)]
    hosts = [dig(rule, "host") for rule in rules]
    if None in hosts:
        return [_finding(ingress, f"spec.rules[{hosts.index(None)}].host", (
            f"no host: the rule answers for every host name; checkpoint 4 publishes the app as {host}"),
            expected=host, found=None)]
    return [_finding(ingress, "spec.rules[0].host", _published_as(host), expected=host,
                     found=hosts[0] if len(hosts) == 1 else hosts)]


def _ingress_paths(ingress: Manifest, host: str) -> list[tuple[str, Any]]:
    """(field path, HTTPIngressPath) of the rules for `host` (else of host-less rules)."""
    rules = listed(ingress.body, "spec", "rules")
    chosen = [i for i, rule in enumerate(rules) if dig(rule, "host") == host] or \
        [i for i, rule in enumerate(rules) if dig(rule, "host") is None]
    return [(f"spec.rules[{i}].http.paths[{j}]", entry)
            for i in chosen for j, entry in enumerate(listed(rules[i], "http", "paths"))]


def ingress_backend(submission: Submission, ingress: Manifest, path: str, backend: Any,
                    wanted: str | None = None) -> list[Finding]:
    """One backend: a Service of the submission (`wanted`, when given), on a port that
    Service defines, named by exactly one of `name` or `number`."""
    if isinstance(dig(backend, "resource"), dict):
        return [_finding(ingress, f"{path}.resource", "a resource backend is not a Service",
                         expected=f"service: {{name: {wanted}}}", found=dig(backend, "resource"))]
    name = dig(backend, "service", "name")
    if wanted is not None and name != wanted:
        return [_finding(ingress, f"{path}.service.name", f"this path belongs to Service {wanted}",
                         expected=wanted, found=name)]
    service = submission.service(str(name)) if name is not None else None
    if service is None:
        return [_missing_service(ingress, f"{path}.service.name", name)]
    port_path = f"{path}.service.port"
    number, port_name = dig(backend, "service", "port", "number"), dig(backend, "service", "port", "name")
    declared = service_ports_text(service)
    if number is None and port_name is None:
        return [_finding(ingress, port_path, "no port: the API server needs the Service port's name or number",
                         expected=f"a port of {service.ref}: {declared}", found=None)]
    if number is not None and port_name is not None:
        return [_finding(ingress, port_path, "both name and number: the API server accepts one of them",
                         expected="name or number", found=dig(backend, "service", "port"))]
    if service_port(service, number, port_name) is None:
        how = f"no port named {shown(port_name)!r}" if port_name is not None else f"no port {shown(number)}"
        return [_finding(ingress, f"{port_path}.{'name' if port_name is not None else 'number'}", (
            f"{service.ref} has {how}: a backend names a port of the Service (its `port` or `name`), not a "
            "container port; the controller would answer 503"),
            expected=f"a port of {service.ref}: {declared}", found=port_name if port_name is not None else number)]
    return []


def ingress_paths(submission: Submission, host: str = HOST) -> list[Finding]:
    """`/` of `host` goes to Service web as a Prefix path, on a port that Service
    defines; no other backend sends requests to api or db, and any other one names a
    real Service port."""
    ingress = _ingress(submission)
    if ingress is None:
        return _missing_ingress(submission)
    paths = _ingress_paths(ingress, host)
    findings = []
    for route in ROUTES:
        found = [(at, entry) for at, entry in paths if _same_path(dig(entry, "path"), route.path)]
        if not found:
            findings.append(_finding(ingress, "spec.rules", f"no path {route.path} for host {host}: nothing sends "
                                     f"it to Service {route.service}",
                                     expected=f"path {route.path} (Prefix) -> Service {route.service}",
                                     found=[dig(e, "path") for _, e in paths] or None))
            continue
        at, entry = found[0]
        if dig(entry, "pathType") != "Prefix":
            findings.append(_finding(ingress, f"{at}.pathType", (
                f"{route.path} must match the paths under it too (Exact matches one path only; "
                "ImplementationSpecific is the controller's choice)"), expected="Prefix", found=dig(entry, "pathType")))
        findings += ingress_backend(submission, ingress, f"{at}.backend", dig(entry, "backend"), route.service)
    wanted = {id(entry) for at, entry in paths if any(_same_path(dig(entry, "path"), r.path) for r in ROUTES)}
    others = [(f"{at}.backend", dig(entry, "backend")) for at, entry in paths if id(entry) not in wanted]
    default = dig(ingress.body, "spec", "defaultBackend")
    if default is not None:
        others.append(("spec.defaultBackend", default))
    for at, backend in others:
        findings += _internal_published(ingress, f"{at}.service.name", dig(backend, "service", "name")) or \
            ingress_backend(submission, ingress, at, backend)
    return findings


def _internal_published(manifest: Manifest, path: str, service: Any) -> list[Finding]:
    """A backend sending outside requests to api or db, which only pods may reach."""
    if service not in INTERNAL_TIERS:
        return []
    return [_finding(manifest, path, (
        f"publishes Service {service} to the outside: checkpoint 4 publishes web only, and {service} stays reachable "
        "from inside the cluster alone (the ingress controller runs on the node, so a NetworkPolicy would not stop "
        "it)"), expected="web", found=service)]


def ingress_rules(submission: Submission, host: str = HOST) -> list[Finding]:
    """Every Ingress rule together: class, host, paths and backends."""
    if _ingress(submission) is None:
        return _missing_ingress(submission)
    return ingress_class(submission) + ingress_host(submission, host) + ingress_paths(submission, host)


# ---- HTTPRoute -----------------------------------------------------------------------------


def _httproute(submission: Submission) -> Manifest | None:
    routes = [m for m in submission.manifests if m.kind == "HTTPRoute"]
    return next((m for m in routes if m.name == INGRESS_NAME), routes[0] if routes else None)


def _gateways(submission: Submission) -> list[Manifest]:
    return [m for m in submission.manifests if m.kind == "Gateway"]


def _route_matches(rule: Any) -> list[tuple[str, str, Any]]:
    """(path type, value, field path) of each match of a rule, with Gateway API's
    defaults: no matches (or no path) is PathPrefix /."""
    matches = listed(rule, "matches")
    if not matches:
        return [("PathPrefix", "/", "matches")]
    return [(str(dig(match, "path", "type", default="PathPrefix")), dig(match, "path", "value", default="/"),
             f"matches[{index}].path") for index, match in enumerate(matches)]


def _parent_refs(submission: Submission, route: Manifest) -> list[Finding]:
    refs = listed(route.body, "spec", "parentRefs")
    if not refs:
        return [_finding(route, "spec.parentRefs", "attaches to no Gateway: no listener serves this route",
                         expected="parentRefs: [{name: <your Gateway>}]", found=None)]
    gateways = {g.name: g for g in _gateways(submission)}
    findings = []
    for index, ref in enumerate(refs):
        kind, group = dig(ref, "kind", default="Gateway"), dig(ref, "group", default=GATEWAY_GROUP)
        if (kind, group) != ("Gateway", GATEWAY_GROUP):
            findings.append(_finding(route, f"spec.parentRefs[{index}]", "the parent of an HTTPRoute is a Gateway",
                                     expected=f"kind Gateway, group {GATEWAY_GROUP}", found=f"{kind} ({group})"))
            continue
        name = dig(ref, "name")
        gateway = gateways.get(name) if isinstance(name, str) else None
        if gateways and gateway is None:
            findings.append(_finding(route, f"spec.parentRefs[{index}].name", "names no Gateway of the submission",
                                     expected=" or ".join(sorted(gateways)), found=name))
        elif gateway is not None:
            findings += _gateway(gateway, dig(ref, "sectionName"))
    return findings


def _gateway(gateway: Manifest, section: Any) -> list[Finding]:
    findings = []
    if not dig(gateway.body, "spec", "gatewayClassName"):
        findings.append(_finding(gateway, "spec.gatewayClassName", "not set: no controller would serve this Gateway",
                                 expected="the GatewayClass of the cluster's controller", found=None))
    listeners = [dig(listener, "name") for listener in listed(gateway.body, "spec", "listeners")]
    if section is not None and section not in listeners:
        findings.append(_finding(gateway, "spec.listeners", f"no listener named {shown(section)!r}, which the "
                                 "HTTPRoute's sectionName names", expected=section, found=listeners or None))
    return findings


def _route_backends(submission: Submission, route: Manifest, at: str, rule: Any, wanted: str) -> list[Finding]:
    refs = listed(rule, "backendRefs")
    if not refs:
        return [_finding(route, f"{at}.backendRefs", f"no backendRefs: requests would get 500, not Service {wanted}",
                         expected=f"[{{name: {wanted}, port: ...}}]", found=None)]
    findings = []
    for index, ref in enumerate(refs):
        path = f"{at}.backendRefs[{index}]"
        kind, group = dig(ref, "kind", default="Service"), dig(ref, "group", default="")
        if (kind, group) != ("Service", ""):
            findings.append(_finding(route, path, "a backend that is not a Service", expected="kind Service",
                                     found=f"{kind} ({group})"))
            continue
        name, port = dig(ref, "name"), dig(ref, "port")
        if name != wanted:
            findings.append(_finding(route, f"{path}.name", f"this path belongs to Service {wanted}", expected=wanted,
                                     found=name))
            continue
        service = submission.service(wanted)
        if service is None:
            findings.append(_missing_service(route, f"{path}.name", name))
            continue
        declared = service_ports_text(service)
        if port is None:
            findings.append(_finding(route, f"{path}.port", "no port: a Service backend needs the Service's port "
                                     "number", expected=f"a port of {service.ref}: {declared}", found=None))
        elif not isinstance(port, int) or isinstance(port, bool):
            findings.append(_finding(route, f"{path}.port", (
                "Gateway API takes the Service port's number, not its name"),
                expected=f"a port number of {service.ref}: {declared}", found=port))
        elif service_port(service, number=port) is None:
            findings.append(_finding(route, f"{path}.port", (
                f"{service.ref} has no port {port}: a backend names a port of the Service, not a container port"),
                expected=f"a port of {service.ref}: {declared}", found=port))
    return findings


def httproute_rules(submission: Submission, host: str = HOST) -> list[Finding]:
    """An HTTPRoute attached to a Gateway, for `host`, sending PathPrefix `/` to Service
    web on a port that Service defines, and no request to api or db."""
    route = _httproute(submission)
    if route is None:
        return [Finding(f"HTTPRoute/{INGRESS_NAME}", "", "missing: no HTTPRoute in the submission",
                        expected="an HTTPRoute", found="none")]
    findings = []
    version = route.body.get("apiVersion")
    if version not in HTTPROUTE_VERSIONS:
        findings.append(_finding(route, "apiVersion", "HTTPRoute is Gateway API's", expected=HTTPROUTE_VERSIONS[0],
                                 found=version))
    findings += _parent_refs(submission, route)
    hostnames = listed(route.body, "spec", "hostnames")
    if host not in hostnames:
        findings.append(_finding(route, "spec.hostnames", (
            _published_as(host) + ("; without hostnames the route answers for every host" if not hostnames else "")),
            expected=[host], found=hostnames or None))
    rules = listed(route.body, "spec", "rules")
    for wanted in ROUTES:
        found = [(f"spec.rules[{index}]", rule, kind, at) for index, rule in enumerate(rules)
                 for kind, value, at in _route_matches(rule) if _same_path(value, wanted.path)]
        if not found:
            findings.append(_finding(route, "spec.rules", f"no rule matches {wanted.path}: nothing sends it to "
                                     f"Service {wanted.service}",
                                     expected=f"matches path PathPrefix {wanted.path} -> {wanted.service}",
                                     found=[value for rule in rules for _, value, _ in _route_matches(rule)] or None))
            continue
        at, rule, kind, match_at = found[0]
        if kind != "PathPrefix":
            findings.append(_finding(route, f"{at}.{match_at}.type", (
                f"{wanted.path} must match the paths under it too"), expected="PathPrefix", found=kind))
        findings += _route_backends(submission, route, at, rule, wanted.service)
    for index, rule in enumerate(rules):
        for position, ref in enumerate(listed(rule, "backendRefs")):
            findings += _internal_published(route, f"spec.rules[{index}].backendRefs[{position}].name", dig(ref, "name"))
    return findings


# ---- either -------------------------------------------------------------------------------


def web_published(submission: Submission, host: str = HOST) -> list[Finding]:
    """web is published as `host`: a correct Ingress or a correct HTTPRoute (either will
    do; when neither is correct, the findings of each one submitted)."""
    candidates = []
    if any(m.kind == "Ingress" for m in submission.manifests):
        candidates.append(ingress_rules(submission, host))
    if any(m.kind == "HTTPRoute" for m in submission.manifests):
        candidates.append(httproute_rules(submission, host))
    if not candidates:
        return [Finding(f"Ingress/{INGRESS_NAME}", "", (
            "missing: nothing publishes web; write an Ingress (or a Gateway API HTTPRoute)"),
            expected=f"an Ingress {INGRESS_NAME} for {host}", found="none")]
    if any(not findings for findings in candidates):
        return []
    return [finding for findings in candidates for finding in findings]


def services_cluster_ip(submission: Submission) -> list[Finding]:
    """Once the Ingress publishes web, no Service of a tier opens a node port (or a
    load balancer): that would be a second way in, around the ingress controller."""
    findings = []
    for tier in TIERS:
        service = submission.service(tier.name)
        if service is None:
            continue  # the Service rules report it
        kind = dig(service.body, "spec", "type", default="ClusterIP")
        if kind in ("NodePort", "LoadBalancer"):
            findings.append(_finding(service, "spec.type", (
                "the Ingress publishes the app now; a node port would be a second way in, around the ingress controller"),
                expected="ClusterIP", found=kind))
    return findings


# The rules checkpoint 4 grades over the publication, by check id; each takes the submission
# (web-published also the learner's host, the solo learner's by default).
RULES: Mapping[str, Callable[[Submission], list[Finding]]] = {
    "web-published": web_published,
    "services-cluster-ip": services_cluster_ip,
}
