"""Semantic rules for Services (decision #3 of the series), beyond what the schema
knows. Each rule returns the findings that make it fail; no findings means it passed.
Pure functions of a `Submission`.
"""

from __future__ import annotations

import re
from typing import Any

from course.model import NODE_PORT_RANGE, TIER_NAMES, TIERS, WEB_NODE_PORT, Tier
from grader.findings import Finding
from grader.loading import Manifest
from grader.submission import Submission
from grader.workloads import dig, listed, resolve_target_port, selects

_IANA_SERVICE_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_EXTERNAL_TYPES = ("NodePort", "LoadBalancer")


def _missing_service(tier: Tier) -> Finding:
    return Finding(f"Service/{tier.name}", "", (
        f"missing: there is no Service named {tier.name!r}; other tiers reach it by that DNS name"),
        expected=f"a Service named {tier.name}", found="none")


def _finding(service: Manifest, path: str, problem: str, expected: Any = None, found: Any = None) -> Finding:
    return Finding(service.ref, path, problem, expected, found, where=str(service.source))


def service_selector(submission: Submission, tier: Tier) -> list[Finding]:
    """The Service selects the pod template of exactly one workload: the tier's."""
    service = submission.service(tier.name)
    if service is None:
        return [_missing_service(tier)]
    selector = dig(service.body, "spec", "selector", default={})
    if not isinstance(selector, dict) or not selector:
        return [_finding(service, "spec.selector", "no selector: the Service would route to no pod",
                         expected=tier.labels, found=selector or None)]
    intended = submission.workload_of(tier)
    if intended is None:
        return [_finding(service, "spec.selector",
                         f"the submission has no workload for the {tier.name} tier to select",
                         expected=f"a workload named {tier.name}", found="none")]
    selected = [w for w in submission.workloads if selects(selector, w.labels)]
    if not selected:
        return [_finding(service, "spec.selector", "selects no pod: no pod template has all these labels",
                         expected=intended.labels, found=selector)]
    if len(selected) > 1:
        names = ", ".join(w.ref for w in selected)
        return [_finding(service, "spec.selector",
                         f"selects the pods of several workloads ({names}); traffic would be split between tiers",
                         expected=f"only {intended.ref}", found=names)]
    if selected[0] is not intended:
        return [_finding(service, "spec.selector", f"selects the pods of {selected[0].ref}, another tier",
                         expected=intended.ref, found=selected[0].ref)]
    return []


def service_target_ports(submission: Submission, tier: Tier) -> list[Finding]:
    """Every Service port's targetPort lands on a container port of the tier's pods."""
    service = submission.service(tier.name)
    if service is None:
        return [_missing_service(tier)]
    workload = submission.workload_of(tier)
    if workload is None:
        return [_finding(service, "spec.ports", f"no workload for the {tier.name} tier to route to")]
    ports = dig(service.body, "spec", "ports", default=[])
    if not isinstance(ports, list) or not ports:
        return [_finding(service, "spec.ports", "no ports: the Service forwards nothing",
                         expected=f"a port targeting {tier.port_name} ({tier.port})", found=None)]
    findings = []
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue  # the schema layer reports it
        target = port.get("targetPort")
        if target is None or target == "" or (type(target) is int and target == 0):
            target = port.get("port")  # the API server's default: the Service port itself
        protocol = port.get("protocol", "TCP")
        matched, reason = resolve_target_port(target, protocol, workload)
        if matched is None:
            declared = ", ".join(
                f"{p.get('name') or '(unnamed)'}={p.get('containerPort')}/{p.get('protocol', 'TCP')}"
                for p in workload.container_ports()) or "none"
            findings.append(_finding(
                service, f"spec.ports[{index}].targetPort",
                f"{reason} in {workload.ref}; connections would be refused",
                expected=f"one of the container ports: {declared}", found=f"{target}/{protocol}"))
    return findings


def service_type(submission: Submission, tier: Tier) -> list[Finding]:
    """Decision #3: only the web tier is reachable from outside the cluster."""
    service = submission.service(tier.name)
    if service is None:
        return [_missing_service(tier)]
    kind = dig(service.body, "spec", "type", default="ClusterIP")
    if tier.external:
        if kind != "NodePort":
            return [_finding(service, "spec.type",
                             "the web tier must be reachable from outside the cluster, through a node port",
                             expected="NodePort", found=kind)]
        return []
    return _exposure(service, expected="ClusterIP (or headless, clusterIP: None)")


def _exposure(service: Manifest, expected: str) -> list[Finding]:
    kind = dig(service.body, "spec", "type", default="ClusterIP")
    findings = []
    if kind in _EXTERNAL_TYPES:
        findings.append(_finding(service, "spec.type",
                                 "exposes this tier outside the cluster; only web should be reachable from there",
                                 expected=expected, found=kind))
    elif kind == "ExternalName":
        findings.append(_finding(service, "spec.type", "an ExternalName Service points away from the pods",
                                 expected=expected, found=kind))
    if dig(service.body, "spec", "externalIPs", default=[]):
        findings.append(_finding(service, "spec.externalIPs", "externalIPs expose this tier outside the cluster",
                                 expected="none", found=dig(service.body, "spec", "externalIPs")))
    return findings


def web_node_port(submission: Submission, node_port: int = WEB_NODE_PORT) -> list[Finding]:
    """The web Service opens the learner's node port: 30080 on their own cluster, the
    one recorded on their namespace in a class."""
    web = next(t for t in TIERS if t.external)
    service = submission.service(web.name)
    if service is None:
        return [_missing_service(web)]
    ports = [p for p in listed(service.body, "spec", "ports") if isinstance(p, dict)]
    node_ports = [(i, p.get("nodePort")) for i, p in enumerate(ports)]
    if any(port == node_port for _, port in node_ports):
        return []
    findings = []
    for index, port in node_ports:
        path = f"spec.ports[{index}].nodePort"
        if port is None:
            findings.append(_finding(service, path, (
                "not set: the server would pick a random port, but your web answers on "
                f"node port {node_port}"), expected=node_port, found=None))
        elif isinstance(port, int) and port not in NODE_PORT_RANGE:
            findings.append(_finding(service, path, (
                f"outside the node port range {NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}; "
                "the API server would reject it"), expected=node_port, found=port))
        else:
            findings.append(_finding(service, path, f"your node port is {node_port}", expected=node_port, found=port))
    return findings or [_finding(service, "spec.ports", "no ports", expected=node_port, found=None)]


def port_names(submission: Submission) -> list[Finding]:
    """Container port names are IANA service names (<= 15 characters, as the API server
    demands); Service port names are DNS labels, and required when there are several."""
    findings = []
    manifests = {m.ref: m for m in submission.manifests}
    if not submission.uses_course_workloads:
        for workload in submission.workloads:
            for container_index, container in enumerate(listed(workload.template, "spec", "containers")):
                for port_index, port in enumerate(listed(container, "ports")):
                    name = dig(port, "name")
                    if name is None or (isinstance(name, str) and len(name) <= 15 and _IANA_SERVICE_NAME.match(name)):
                        continue
                    prefix = "" if workload.kind == "Pod" else "spec.template."
                    findings.append(Finding(
                        workload.ref, f"{prefix}spec.containers[{container_index}].ports[{port_index}].name",
                        "not a valid port name: at most 15 characters, lowercase letters, digits and "
                        "single hyphens inside, at least one letter",
                        expected="e.g. http, redis, metrics", found=name,
                        where=str(manifests[workload.ref].source) if workload.ref in manifests else None))
    for service in submission.services():
        ports = [p for p in listed(service.body, "spec", "ports") if isinstance(p, dict)]
        for index, port in enumerate(ports):
            name = port.get("name")
            if name is None:
                if len(ports) > 1:
                    findings.append(_finding(service, f"spec.ports[{index}].name",
                                             "a Service with several ports must name each one",
                                             expected="a name such as http", found=None))
            elif not (isinstance(name, str) and _DNS_LABEL.match(name) and len(name) <= 63):
                findings.append(_finding(service, f"spec.ports[{index}].name",
                                         "not a valid port name (a DNS label: lowercase letters, digits, hyphens)",
                                         expected="e.g. http", found=name))
    return findings


def no_extra_exposure(submission: Submission) -> list[Finding]:
    """No Service beyond the three tiers' opens anything to the outside (a second door
    to api or db that the per-tier checks would not look at)."""
    return [finding for service in submission.services() if service.name not in TIER_NAMES
            for finding in _exposure(service, expected="ClusterIP")]
