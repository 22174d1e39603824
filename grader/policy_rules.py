"""Checkpoint 4, "lock it down": NetworkPolicies evaluated the way Kubernetes defines
them, and the static rules over a submission's policies. Pure functions: no cluster,
no Kubernetes client; each rule returns the findings that make it fail.

The evaluator follows the NetworkPolicy API (networking.k8s.io/v1) and its documented
semantics:

- A policy selects the pods of its own namespace that its `spec.podSelector` matches;
  an empty selector (or none) selects every pod of the namespace.
- `policyTypes` defaults to Ingress, plus Egress when the policy has egress rules
  (`egress: []` is none). A pod selected by a policy with Ingress in its types is
  isolated for ingress (likewise egress): then only what some rule of some policy
  selecting it allows gets through. Policies add up; none can deny what another allows.
- A connection is allowed when the source's egress side allows it and the destination's
  ingress side allows it; a side counts only when a policy isolates that pod in that
  direction (an address outside the cluster has no side of its own).
- A rule allows a peer when it matches one of its `from`/`to` peers (missing or empty:
  every peer) and one of its `ports` (missing or empty: every port). `ingress: [{}]`
  allows everything.
- In one peer, `namespaceSelector` and `podSelector` together mean AND (those pods in
  those namespaces); separate peers mean OR. `podSelector` alone means this namespace,
  `namespaceSelector` alone every pod of those namespaces; an empty selector selects
  all. `ipBlock` (with `except`) matches addresses and excludes the other two fields;
  it is meant for addresses outside the cluster (whether it matches pod IPs depends on
  the network plugin), so the pods of the matrix carry no address and no ipBlock
  matches them. An empty peer `{}` is refused by the API server ("must specify a peer").
- A port is a number (a range with `endPort`) or a name, which resolves against the
  destination pod's container ports; `protocol` defaults to TCP; no `port` means every
  port of that protocol.
- Exceptions Kubernetes documents: a pod can always reach itself, and traffic between
  a pod and its own node is always allowed.

The course's expected connectivity is data (`EXPECTED`): the ingress controller reaches
web, web reaches api, api reaches db, everything else is blocked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from course.model import TIERS, Tier, course_pod_template
from course.model import tier as tier_named
from grader.findings import Finding, shown
from grader.loading import Manifest
from grader.submission import Submission
from grader.workloads import dig, listed, mapping, resolve_target_port

NAMESPACE = "lab-checkpoint-4"  # where the policies and pods are, unless a policy names its own
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # every namespace carries it (Kubernetes 1.21+)
PROBE_LABELS: Mapping[str, str] = {"firstapp.probe": "true"}  # course.probe.PROBE_LABEL (that module loads the client)
INGRESS, EGRESS = "Ingress", "Egress"
PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_NUMBERS = range(1, 65536)
POD, NODE, ADDRESS = "pod", "node", "address"
# Where the ingress controller's connections come from, for the evaluator: an address
# outside the pod network, as a controller on the host network of a node (or a client
# outside) has. Only a rule that allows any source (no `from`, or ipBlock 0.0.0.0/0)
# lets it in, which is what checkpoint 4 asks of web.
INGRESS_CONTROLLER_IP = "203.0.113.10"

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_IANA_SERVICE_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")


# ---- what traffic is between ---------------------------------------------------------


@dataclass(frozen=True)
class ContainerPort:
    name: str  # "" when unnamed
    number: int
    protocol: str = "TCP"

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'}={self.number}/{self.protocol}"


@dataclass(frozen=True)
class Peer:
    """One end of a connection: a pod (its namespace, labels and container ports), a
    pod's own node, or an address outside the pod network."""

    name: str  # what a finding calls it: "web", "probe pod", "ingress controller"
    kind: str = POD
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ContainerPort, ...] = ()
    ip: str | None = None  # matched by ipBlock; None: no ipBlock matches it
    pod: str | None = None  # one particular pod, so that its traffic to itself is known as such

    @classmethod
    def of_pod(cls, name: str, namespace: str, labels: Mapping[str, Any], ports: Iterable[ContainerPort] = (),
               ip: str | None = None, namespace_labels: Mapping[str, str] | None = None,
               pod: str | None = None) -> Peer:
        return cls(name, POD, namespace, {str(k): str(v) for k, v in labels.items()},
                   {NAMESPACE_NAME_LABEL: namespace, **(namespace_labels or {})}, tuple(ports), ip, pod)

    @classmethod
    def address(cls, name: str, ip: str) -> Peer:
        return cls(name, ADDRESS, ip=ip)

    @classmethod
    def node(cls, name: str, ip: str | None = None) -> Peer:
        """The node the other end's pod runs on: always allowed to and from it."""
        return cls(name, NODE, ip=ip)


# The cluster DNS as the course's clusters run it (kind's and the local provider's CoreDNS).
KUBE_DNS = Peer.of_pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, (
    ContainerPort("dns", 53, "UDP"), ContainerPort("dns-tcp", 53, "TCP"), ContainerPort("metrics", 9153, "TCP")))


# ---- policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A NetworkPolicy as the evaluator reads it; the rules stay as written (malformed
    parts match nothing: the schema and `policy_values` report them)."""

    name: str
    namespace: str
    pod_selector: Any
    types: frozenset[str]
    ingress: tuple[Any, ...] = ()
    egress: tuple[Any, ...] = ()
    manifest: Manifest | None = field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"NetworkPolicy/{self.name}"

    @property
    def where(self) -> str | None:
        return str(self.manifest.source) if self.manifest is not None else None

    @classmethod
    def from_body(cls, body: Mapping[str, Any], namespace: str = NAMESPACE, manifest: Manifest | None = None) -> Policy:
        spec = mapping(body, "spec")
        ingress, egress = tuple(listed(spec, "ingress")), tuple(listed(spec, "egress"))
        written = [t for t in listed(spec, "policyTypes") if t in (INGRESS, EGRESS)]
        # The API server's default when policyTypes is empty: Ingress, and Egress if there are egress rules.
        types = frozenset(written) if listed(spec, "policyTypes") else frozenset(
            [INGRESS, *([EGRESS] if egress else [])])
        own_namespace = dig(body, "metadata", "namespace")
        return cls(str(dig(body, "metadata", "name", default="<unnamed>")),
                   own_namespace if isinstance(own_namespace, str) and own_namespace else namespace,
                   dig(spec, "podSelector", default={}), types, ingress, egress, manifest)

    @classmethod
    def from_manifest(cls, manifest: Manifest, namespace: str = NAMESPACE) -> Policy:
        return cls.from_body(manifest.body, namespace, manifest)

    def selects(self, pod: Peer) -> bool:
        return pod.kind == POD and pod.namespace == self.namespace and selector_matches(self.pod_selector, pod.labels)

    def rules(self, direction: str) -> tuple[Any, ...]:
        return self.ingress if direction == INGRESS else self.egress


def policies_of(submission: Submission, namespace: str = NAMESPACE) -> list[Policy]:
    return [Policy.from_manifest(m, namespace) for m in _policy_manifests(submission)]


def _policy_manifests(submission: Submission) -> list[Manifest]:
    return [m for m in submission.manifests if m.kind == "NetworkPolicy"]


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A LabelSelector: every matchLabels pair and every matchExpressions requirement
    holds (an empty selector matches everything); a malformed one matches nothing."""
    if not isinstance(selector, dict):
        return False
    pairs = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(pairs, dict) or not isinstance(expressions, list):
        return False
    if any(key not in labels or str(labels[key]) != str(value) for key, value in pairs.items()):
        return False
    return all(_requirement_holds(expression, labels) for expression in expressions)


def _requirement_holds(expression: Any, labels: Mapping[str, Any]) -> bool:
    if not isinstance(expression, dict):
        return False
    key, operator = expression.get("key"), expression.get("operator")
    if not isinstance(key, str):
        return False
    values = [str(v) for v in listed(expression, "values")]
    present = key in labels
    if operator == "In":
        return present and str(labels[key]) in values
    if operator == "NotIn":
        return not present or str(labels[key]) not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False


def _in_block(block: Any, ip: str | None) -> bool:
    if ip is None or not isinstance(block, dict) or not isinstance(block.get("cidr"), str):
        return False
    try:
        address = ipaddress.ip_address(ip)
        network = ipaddress.ip_network(block["cidr"], strict=False)
    except ValueError:
        return False
    if address.version != network.version or address not in network:
        return False
    for excluded in listed(block, "except"):
        try:
            if isinstance(excluded, str) and address in ipaddress.ip_network(excluded, strict=False):
                return False
        except ValueError:
            continue
    return True


def peer_matches(spec: Any, other: Peer, namespace: str) -> bool:
    """One `from`/`to` entry of a policy in `namespace` against the other end."""
    if not isinstance(spec, dict):
        return False
    pods, namespaces, block = spec.get("podSelector"), spec.get("namespaceSelector"), spec.get("ipBlock")
    if block is not None:
        return pods is None and namespaces is None and _in_block(block, other.ip)
    if pods is None and namespaces is None:
        return False  # an empty peer: the API server refuses it
    if other.kind != POD:
        return False
    if namespaces is not None:
        if not selector_matches(namespaces, other.namespace_labels):
            return False
    elif other.namespace != namespace:
        return False
    return pods is None or selector_matches(pods, other.labels)


def port_matches(spec: Any, port: int, protocol: str, destination: Peer) -> bool:
    """One `ports` entry: protocol (TCP unless written), then a number, a range up to
    `endPort`, or a name resolved against the destination pod's container ports."""
    if not isinstance(spec, dict) or (spec.get("protocol") or "TCP") != protocol:
        return False
    wanted = spec.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, bool):
        return False
    if isinstance(wanted, int):
        end = spec.get("endPort")
        if isinstance(end, int) and not isinstance(end, bool):
            return wanted <= port <= end
        return port == wanted
    if isinstance(wanted, str):
        return any(p.name == wanted and p.number == port and p.protocol == protocol for p in destination.ports)
    return False


def rule_matches(rule: Any, direction: str, other: Peer, port: int, protocol: str, destination: Peer,
                 namespace: str) -> bool:
    """An ingress rule against its source (`other`), or an egress rule against its destination."""
    if not isinstance(rule, dict):
        return False
    peers, ports = rule.get("from" if direction == INGRESS else "to"), rule.get("ports")
    if (peers is not None and not isinstance(peers, list)) or (ports is not None and not isinstance(ports, list)):
        return False
    if peers and not any(peer_matches(p, other, namespace) for p in peers):
        return False
    return not ports or any(port_matches(p, port, protocol, destination) for p in ports)


# ---- verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRef:
    """One rule of one policy: `spec.ingress[0]` of NetworkPolicy/web-ingress."""

    policy: Policy
    direction: str
    index: int

    @property
    def path(self) -> str:
        return f"spec.{self.direction.lower()}[{self.index}]"

    def __str__(self) -> str:
        return f"rule {self.path} of policy {self.policy.name}"


@dataclass(frozen=True)
class Side:
    """One direction's say: the source's egress or the destination's ingress."""

    direction: str  # INGRESS or EGRESS
    subject: str  # the pod this side is about: the destination for ingress, the source for egress
    other: str
    traffic: str  # "8080/TCP"
    isolating: tuple[Policy, ...] = ()  # the policies that select the subject for this direction
    allowing: tuple[RuleRef, ...] = ()
    exempt: str = ""  # why no policy has a say here

    @property
    def allowed(self) -> bool:
        return bool(self.exempt) or not self.isolating or bool(self.allowing)

    def why(self) -> str:
        direction = self.direction.lower()
        if self.exempt:
            return self.exempt
        if not self.isolating:
            return f"no policy isolates {self.subject} for {direction}"
        if self.allowing:
            return f"{self.subject}'s {direction} is allowed by {_and(str(r) for r in self.allowing[:3])}"
        names = _and(p.name for p in self.isolating)
        verb = "isolates" if len(self.isolating) == 1 else "isolate"
        toward = f"from {self.other}" if self.direction == INGRESS else f"to {self.other}"
        return (f"polic{'y' if len(self.isolating) == 1 else 'ies'} {names} {verb} {self.subject} for {direction} and "
                f"no {direction} rule of any policy selecting {self.subject} allows {toward} on {self.traffic}")


@dataclass(frozen=True)
class Verdict:
    """Whether `source` reaches `destination` on a port, and why."""

    source: str
    destination: str
    port: int
    protocol: str
    egress: Side
    ingress: Side
    exempt: str = ""  # a pod reaching itself

    @property
    def allowed(self) -> bool:
        return bool(self.exempt) or (self.egress.allowed and self.ingress.allowed)

    @property
    def reason(self) -> str:
        if self.exempt:
            return self.exempt
        if self.allowed:
            return f"{self.egress.why()}; {self.ingress.why()}"
        return "; ".join(side.why() for side in (self.egress, self.ingress) if not side.allowed)

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "blocked"
        return f"{self.source} -> {self.destination} on {self.port}/{self.protocol}: {verdict} ({self.reason})"


def _and(items: Iterable[str]) -> str:
    words = list(items)
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


def _side(policies: list[Policy], direction: str, subject: Peer, other: Peer, destination: Peer, port: int,
          protocol: str) -> Side:
    traffic = f"{port}/{protocol}"
    if subject.kind != POD:
        return Side(direction, subject.name, other.name, traffic,
                    exempt=f"{subject.name} is not a pod, so no policy rules its {direction.lower()}")
    if other.kind == NODE:
        return Side(direction, subject.name, other.name, traffic,
                    exempt=f"traffic between a pod and its own node ({other.name}) is always allowed")
    isolating = tuple(p for p in policies if direction in p.types and p.selects(subject))
    allowing = tuple(RuleRef(p, direction, index) for p in isolating for index, rule in enumerate(p.rules(direction))
                     if rule_matches(rule, direction, other, port, protocol, destination, p.namespace))
    return Side(direction, subject.name, other.name, traffic, isolating, allowing)


def allowed(policies: Iterable[Policy], source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> Verdict:
    """Whether `policies` let `source` connect to `destination` on `port`/`protocol`: the
    source's egress and the destination's ingress must both allow it."""
    policies = list(policies)
    egress = _side(policies, EGRESS, source, destination, destination, port, protocol)
    ingress = _side(policies, INGRESS, destination, source, destination, port, protocol)
    itself = source.kind == POD and source.pod is not None and \
        (source.pod, source.namespace) == (destination.pod, destination.namespace)
    return Verdict(source.name, destination.name, port, protocol, egress, ingress,
                   exempt="a pod can always reach itself" if itself else "")


# ---- the course's intended connectivity ---------------------------------------------------

SOURCES = ("host", "web", "api", "db", "probe")
DESTINATIONS = tuple(t.name for t in TIERS)
SOURCE_NAMES = {"host": "the ingress controller", "probe": "the probe pod"}  # what findings call them
# from \ to     web    api    db       (the ingress controller stands for the outside: it
EXPECTED: Mapping[str, tuple[bool, bool, bool]] = {  # runs on the host network, not in a pod)
    "host":  (True, False, False),
    "web":   (False, True, False),
    "api":   (False, False, True),
    "db":    (False, False, False),
    "probe": (False, False, False),  # a pod with no tier label, in the same namespace
}


def expected_matrix() -> dict[tuple[str, str], bool]:
    """(source, destination) -> allowed, as checkpoint 4 intends it."""
    return {(source, destination): EXPECTED[source][index]
            for source in SOURCES for index, destination in enumerate(DESTINATIONS)}


def _container_ports(template: Any) -> tuple[ContainerPort, ...]:
    ports = []
    for container in listed(template, "spec", "containers"):
        for port in listed(container, "ports"):
            number = dig(port, "containerPort")
            if isinstance(number, int) and not isinstance(number, bool):
                name = dig(port, "name", default="")
                ports.append(ContainerPort(name if isinstance(name, str) else "", number,
                                           str(dig(port, "protocol", default="TCP"))))
    return tuple(ports)


def tier_pod(submission: Submission, tier: Tier, namespace: str = NAMESPACE) -> Peer:
    """A pod of the tier as the submission's workload would make it (the course's own
    template where the submission has no workload for the tier)."""
    workload = submission.workload_of(tier)
    template = workload.template if workload is not None else course_pod_template(tier)
    return Peer.of_pod(tier.name, namespace, mapping(template, "metadata", "labels"), _container_ports(template))


def matrix_peers(submission: Submission, namespace: str = NAMESPACE) -> dict[str, Peer]:
    peers = {"host": Peer.address(SOURCE_NAMES["host"], INGRESS_CONTROLLER_IP)}
    peers.update({t.name: tier_pod(submission, t, namespace) for t in TIERS})
    peers["probe"] = Peer.of_pod(SOURCE_NAMES["probe"], namespace, PROBE_LABELS)
    return peers


def _port_of(pod: Peer, tier: Tier) -> int:
    """The port a tier serves on: its named container port's number, else the course's."""
    return next((p.number for p in pod.ports if p.name == tier.port_name and p.protocol == "TCP"), tier.port)


def matrix(submission: Submission, namespace: str = NAMESPACE) -> dict[tuple[str, str], Verdict]:
    """(source, destination) -> the verdict of the submission's policies, each
    destination on its serving port (8080, 6379)."""
    policies = policies_of(submission, namespace)
    peers = matrix_peers(submission, namespace)
    return {(source, destination): allowed(policies, peers[source], peers[destination],
                                           _port_of(peers[destination], tier_named(destination)))
            for source in SOURCES for destination in DESTINATIONS}


# ---- static rules --------------------------------------------------------------------------


def _finding(policy: Manifest, path: str, problem: str, expected: Any = None, found: Any = None) -> Finding:
    return Finding(policy.ref, path, problem, expected, found, where=str(policy.source))


def _no_policy() -> list[Finding]:
    return [Finding("NetworkPolicy", "", "missing: the submission has no NetworkPolicy, so every pod accepts "
                    "and opens every connection", expected="NetworkPolicies for checkpoint 4", found="none")]


def _tier_pods(submission: Submission, namespace: str) -> list[Peer]:
    return [tier_pod(submission, t, namespace) for t in TIERS]


def _labels_hint(pods: list[Peer]) -> str:
    return "; ".join(f"{p.name}: {dict(p.labels)}" for p in pods)


def _peers_with_paths(policy: Manifest) -> Iterable[tuple[str, str, int, Any, str]]:
    """(direction, "from"/"to", rule index, peer, field path) of every peer of every rule."""
    for direction, key in ((INGRESS, "from"), (EGRESS, "to")):
        for index, rule in enumerate(listed(policy.body, "spec", direction.lower())):
            for position, peer in enumerate(listed(rule, key)):
                yield direction, key, index, peer, f"spec.{direction.lower()}[{index}].{key}[{position}]"


def policy_selectors(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """Every policy selects a pod of the submission, and every peer's podSelector in
    this namespace selects one: a selector that selects nothing protects, or lets
    through, nothing (a wrong label is the usual cause)."""
    manifests = _policy_manifests(submission)
    if not manifests:
        return _no_policy()
    pods = _tier_pods(submission, namespace)
    local = [*pods, Peer.of_pod(SOURCE_NAMES["probe"], namespace, PROBE_LABELS)]
    findings = []
    for manifest in manifests:
        policy = Policy.from_manifest(manifest, namespace)
        if not any(policy.selects(pod) for pod in pods):
            findings.append(_finding(manifest, "spec.podSelector", (
                "selects nothing: no pod of the submission has these labels, so this policy applies to no pod"),
                expected=f"the labels of a tier's pods ({_labels_hint(pods)}), or {{}} for every pod",
                found=policy.pod_selector))
        for _direction, key, _index, peer, path in _peers_with_paths(manifest):
            if not isinstance(peer, dict) or peer.get("ipBlock") is not None or "podSelector" not in peer:
                continue
            # Pods of other namespaces are not in the submission: only a peer that looks in
            # this namespace alone can be known to select nothing.
            here_only = peer.get("namespaceSelector") in (None, {"matchLabels": {NAMESPACE_NAME_LABEL: policy.namespace}})
            if here_only and not any(peer_matches(peer, pod, policy.namespace) for pod in local):
                findings.append(_finding(manifest, f"{path}.podSelector", (
                    f"selects nothing: no pod of the submission has these labels, so this `{key}` entry lets no pod "
                    "through"), expected=f"the labels of a tier's pods ({_labels_hint(pods)})",
                    found=peer.get("podSelector")))
    return findings


def policy_values(submission: Submission) -> list[Finding]:
    """What the API server refuses in a NetworkPolicy though the schema allows it: an
    empty peer, ipBlock beside a selector, a CIDR that is none or an `except` outside
    it, a port that is no number or name, endPort without a numeric port or below it,
    an unknown protocol, policy type or selector operator."""
    findings = []
    for manifest in _policy_manifests(submission):
        spec = mapping(manifest.body, "spec")
        types = listed(spec, "policyTypes")
        for index, kind in enumerate(types):
            if kind not in (INGRESS, EGRESS):
                findings.append(_finding(manifest, f"spec.policyTypes[{index}]", "not a policy type",
                                         expected="Ingress or Egress", found=kind))
        findings += _selector_values(manifest, "spec.podSelector", spec.get("podSelector"))
        for direction in (INGRESS, EGRESS):
            for index, rule in enumerate(listed(spec, direction.lower())):
                base = f"spec.{direction.lower()}[{index}]"
                for position, port in enumerate(listed(rule, "ports")):
                    findings += _port_values(manifest, f"{base}.ports[{position}]", port)
        for _direction, _key, _index, peer, path in _peers_with_paths(manifest):
            findings += _peer_values(manifest, path, peer)
    return findings


def _selector_values(manifest: Manifest, path: str, selector: Any) -> list[Finding]:
    findings = []
    for index, expression in enumerate(listed(selector, "matchExpressions")):
        operator, values = dig(expression, "operator"), listed(expression, "values")
        at = f"{path}.matchExpressions[{index}]"
        if operator not in _OPERATORS:
            findings.append(_finding(manifest, f"{at}.operator", "not a selector operator",
                                     expected=" or ".join(_OPERATORS), found=operator))
        elif operator in ("In", "NotIn") and not values:
            findings.append(_finding(manifest, f"{at}.values", f"{operator} needs at least one value",
                                     expected="values: [...]", found=None))
        elif operator in ("Exists", "DoesNotExist") and values:
            findings.append(_finding(manifest, f"{at}.values", f"{operator} takes no values",
                                     expected=None, found=values))
    return findings


def _peer_values(manifest: Manifest, path: str, peer: Any) -> list[Finding]:
    if not isinstance(peer, dict):
        return []  # the schema reports it
    pods, namespaces, block = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
    if pods is None and namespaces is None and block is None:
        return [_finding(manifest, path, (
            "an empty peer {}: the API server refuses it (\"must specify a peer\"); to allow every source leave "
            "`from` out, for every pod of this namespace write podSelector: {}"),
            expected="podSelector, namespaceSelector or ipBlock", found=peer)]
    findings = _selector_values(manifest, f"{path}.podSelector", pods) + \
        _selector_values(manifest, f"{path}.namespaceSelector", namespaces)
    if block is None:
        return findings
    if pods is not None or namespaces is not None:
        findings.append(_finding(manifest, path, "ipBlock with a selector in one peer: the API server refuses it "
                                 "(\"may not specify both ipBlock and another peer\"); write two peers",
                                 expected="ipBlock alone", found=peer))
    cidr = dig(block, "cidr")
    try:
        network = ipaddress.ip_network(cidr, strict=False) if isinstance(cidr, str) else None
    except ValueError:
        network = None
    if network is None:
        findings.append(_finding(manifest, f"{path}.ipBlock.cidr", "not a CIDR", expected="such as 10.0.0.0/8",
                                 found=cidr))
        return findings
    for index, excluded in enumerate(listed(block, "except")):
        try:
            inner = ipaddress.ip_network(excluded, strict=False) if isinstance(excluded, str) else None
        except ValueError:
            inner = None
        if inner is None or not _strictly_inside(inner, network):
            findings.append(_finding(manifest, f"{path}.ipBlock.except[{index}]",
                                     "must be a strict subset of `cidr`, or the API server refuses it",
                                     expected=f"a CIDR inside {network}, smaller than it", found=excluded))
    return findings


def _strictly_inside(inner: ipaddress.IPv4Network | ipaddress.IPv6Network,
                     outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return inner.version == outer.version and inner.prefixlen > outer.prefixlen and \
        inner.network_address in outer


def _port_values(manifest: Manifest, path: str, port: Any) -> list[Finding]:
    if not isinstance(port, dict):
        return []
    findings = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        findings.append(_finding(manifest, f"{path}.protocol", "not a protocol NetworkPolicy knows",
                                 expected=" or ".join(PROTOCOLS), found=protocol))
    number, end = port.get("port"), port.get("endPort")
    if isinstance(number, int) and not isinstance(number, bool) and number not in PORT_NUMBERS:
        findings.append(_finding(manifest, f"{path}.port", "not a port number: the API server refuses it",
                                 expected="1-65535", found=number))
    if isinstance(number, str):
        if number.isascii() and number.isdigit():
            findings.append(_finding(manifest, f"{path}.port", (
                "a number in quotes is a port name to Kubernetes, and a name needs a letter: the API server refuses "
                "it; write the number without quotes"), expected="a number or a port name such as http",
                found=f'"{number}"'))
        elif len(number) > 15 or not _IANA_SERVICE_NAME.match(number):
            findings.append(_finding(manifest, f"{path}.port", "not a valid port name, the API server refuses it",
                                     expected="a number or a port name such as http", found=number))
    if end is None or isinstance(end, bool) or not isinstance(end, int):
        return findings
    if number is None:
        findings.append(_finding(manifest, f"{path}.endPort", "endPort without port: the API server refuses it",
                                 expected="port: <first port of the range>", found=None))
    elif isinstance(number, str):
        findings.append(_finding(manifest, f"{path}.endPort", (
            "endPort with a named port: the API server refuses it; a range goes from a port number"),
            expected="a numeric port", found=number))
    elif isinstance(number, int) and end < number:
        findings.append(_finding(manifest, f"{path}.endPort", "below port: the range would be empty, and the API "
                                 "server refuses it", expected=f">= {number}", found=end))
    if end not in PORT_NUMBERS:
        findings.append(_finding(manifest, f"{path}.endPort", "not a port number", expected="1-65535", found=end))
    return findings


def _targets(policy: Policy, direction: str, rule: Any, known: list[Peer]) -> list[Peer] | None:
    """The known pods a rule's ports refer to: the selected pods for ingress; for egress
    the pods its `to` peers select (None when it may reach addresses outside, where no
    container port can be checked)."""
    if direction == INGRESS:
        return [pod for pod in known if policy.selects(pod)]
    peers = listed(rule, "to")
    if not peers:
        return None
    if any(isinstance(p, dict) and p.get("ipBlock") is not None for p in peers):
        return None
    return [pod for pod in known if any(peer_matches(p, pod, policy.namespace) for p in peers)]


def policy_ports(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """Every port of every rule is one the target pods listen on: a name must be a
    container port's name (with the same protocol), a number a container port's number
    (or a range holding one). The target is the selected pods for an ingress rule, the
    pods the `to` peers select for an egress rule."""
    known = [*_tier_pods(submission, namespace), KUBE_DNS]
    findings = []
    for manifest in _policy_manifests(submission):
        policy = Policy.from_manifest(manifest, namespace)
        for direction in (INGRESS, EGRESS):
            for index, rule in enumerate(policy.rules(direction)):
                targets = _targets(policy, direction, rule, known)
                if not targets:
                    continue  # reaching outside, or selecting nothing (policy_selectors says so)
                for position, port in enumerate(listed(rule, "ports")):
                    problem = _port_problem(port, targets)
                    if problem:
                        findings.append(_finding(
                            manifest, f"spec.{direction.lower()}[{index}].ports[{position}]", problem[0],
                            expected=problem[1], found=problem[2]))
    return findings


def _port_problem(port: Any, targets: list[Peer]) -> tuple[str, str, str] | None:
    if not isinstance(port, dict) or port.get("port") is None:
        return None
    wanted, protocol = port["port"], port.get("protocol") or "TCP"
    names = _and(t.name for t in targets)
    declared = "; ".join(f"{t.name}: {', '.join(map(str, t.ports)) or 'none'}" for t in targets)
    if isinstance(wanted, str):
        named = [p for t in targets for p in t.ports if p.name == wanted]
        if not named:
            return (f"no container port of {names} is named {shown(wanted)!r}: a named port matches only a container "
                    "port of that name, so this rule allows nothing", f"a container port: {declared}",
                    f"{wanted}/{protocol}")
        if not any(p.protocol == protocol for p in named):
            return (f"the container port {shown(wanted)!r} of {names} uses protocol {named[0].protocol}",
                    f"{wanted}/{named[0].protocol}", f"{wanted}/{protocol}")
        return None
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return None
    end = port.get("endPort")
    last = end if isinstance(end, int) and not isinstance(end, bool) and end >= wanted else wanted
    if any(wanted <= p.number <= last and p.protocol == protocol for t in targets for p in t.ports):
        return None
    shown_port = f"{wanted}-{last}/{protocol}" if last != wanted else f"{wanted}/{protocol}"
    return (f"{names} listen{'s' if len(targets) == 1 else ''} on no port {shown_port}: no container declares it, "
            "so this rule allows nothing that is served", f"a container port: {declared}", shown_port)


def policy_wide_open(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """No ingress rule of a policy selecting api or db lets every source in: no `from`
    (or an empty one), a peer selecting every pod, or an ipBlock of every address."""
    expected = expected_matrix()
    findings = []
    for guarded in (t for t in TIERS if not t.external):
        pod = tier_pod(submission, guarded, namespace)
        allowed_from = [s for s in SOURCES if expected[(s, guarded.name)]]
        wanted = f"from the {_and(allowed_from)} pods only (podSelector: {{matchLabels: {{app: ...}}}})"
        for manifest in _policy_manifests(submission):
            policy = Policy.from_manifest(manifest, namespace)
            if INGRESS not in policy.types or not policy.selects(pod):
                continue
            for index, rule in enumerate(policy.ingress):
                if not isinstance(rule, dict):
                    continue
                sources = rule.get("from")
                if not sources:
                    findings.append(_finding(manifest, f"spec.ingress[{index}]", (
                        f"allows every source to {guarded.name}: a rule without `from` (or with an empty one) "
                        f"lets any pod of any namespace and any address outside reach {guarded.name}"),
                        expected=wanted, found=rule))
                    continue
                for position, peer in enumerate(listed(rule, "from")):
                    open_to = _open_to(peer)
                    if open_to:
                        findings.append(_finding(manifest, f"spec.ingress[{index}].from[{position}]", (
                            f"allows {open_to} to reach {guarded.name}"), expected=wanted, found=peer))
    return findings


def _open_to(peer: Any) -> str:
    if not isinstance(peer, dict):
        return ""
    pods, namespaces, block = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
    if block is not None:
        cidr = dig(block, "cidr")
        try:
            every = isinstance(cidr, str) and ipaddress.ip_network(cidr, strict=False).prefixlen == 0
        except ValueError:
            every = False
        return "every address (an ipBlock of prefix length 0)" if every else ""
    if namespaces == {} and pods in (None, {}):
        return "every pod of every namespace (namespaceSelector: {})"
    if pods == {} and namespaces is None:
        return "every pod of this namespace (podSelector: {})"
    return ""


def _isolating(policies: list[Policy], pod: Peer, direction: str) -> list[Policy]:
    return [p for p in policies if direction in p.types and p.selects(pod)]


def default_deny(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """Every pod of the namespace is isolated for ingress and for egress, the tiers'
    and any other (a pod with no tier label stands for them): whatever no rule
    allows is blocked."""
    policies = policies_of(submission, namespace)
    if not policies:
        return _no_policy()
    pods = [*_tier_pods(submission, namespace), Peer.of_pod(SOURCE_NAMES["probe"], namespace, PROBE_LABELS)]
    findings = []
    for direction in (INGRESS, EGRESS):
        open_pods = [pod.name for pod in pods if not _isolating(policies, pod, direction)]
        if not open_pods:
            continue
        everyone = [p for p in policies if selector_matches(p.pod_selector, {}) and p.manifest is not None]
        they = "they" if len(open_pods) > 1 else "it"
        does = ("accept" if direction == INGRESS else "may open") if len(open_pods) > 1 else \
            ("accepts" if direction == INGRESS else "may open")
        problem = (f"no policy isolates {_and(open_pods)} for {direction.lower()}, so {they} {does} every connection "
                   "no rule mentions; a policy with podSelector: {} and both policyTypes denies by default")
        if everyone and everyone[0].manifest is not None:
            findings.append(_finding(everyone[0].manifest, "spec.policyTypes", problem, expected=[INGRESS, EGRESS],
                                     found=sorted(everyone[0].types)))
        else:
            findings.append(Finding("NetworkPolicy (default deny)", "", problem,
                                    expected=f"a policy selecting every pod for {direction}", found="none"))
    return findings


def _resolves(needs: str) -> str:
    return f"cannot resolve {needs}" if needs else "cannot resolve any name"


def dns_egress(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """web and api, isolated for egress, may still ask the cluster DNS (kube-dns in
    kube-system, port 53 over UDP and TCP): without it they cannot resolve the
    Service names they call."""
    policies = policies_of(submission, namespace)
    expected = expected_matrix()
    findings = []
    for client in (t for t in TIERS if any(expected[(t.name, d)] for d in DESTINATIONS)):
        pod = tier_pod(submission, client, namespace)
        needs = _and(d for d in DESTINATIONS if expected[(client.name, d)])
        for protocol in ("UDP", "TCP"):
            verdict = allowed(policies, pod, KUBE_DNS, 53, protocol)
            if verdict.allowed:
                continue
            blocking = verdict.egress.isolating[0] if verdict.egress.isolating else None
            why = "" if protocol == "UDP" else " (answers too large for UDP are asked again over TCP)"
            findings.append(Finding(
                blocking.ref if blocking else f"traffic {client.name} -> kube-dns", "spec.egress" if blocking else "",
                f"forgets DNS egress: {client.name} {_resolves(needs)} over {protocol}{why}; {verdict.reason}",
                expected="egress to the kube-dns pods (k8s-app: kube-dns in kube-system) on port 53, UDP and TCP",
                found=f"53/{protocol} blocked", where=blocking.where if blocking else None))
    return findings


def _mismatch(source: str, destination: str, verdict: Verdict, expected: bool) -> Finding:
    what = f"{verdict.source} -> {destination} on {verdict.port}/{verdict.protocol}"
    if expected:
        return Finding(f"traffic {source} -> {destination}", "", f"{what} is blocked but should be allowed: "
                       f"{verdict.reason}", expected="allowed", found="blocked")
    # Allowed though it should not be: name the rule that lets it through where there is one.
    rules = [*verdict.ingress.allowing, *verdict.egress.allowing]
    if rules:
        rule = rules[0]
        return Finding(rule.policy.ref, rule.path, f"lets {what} through, which should be blocked: {verdict.reason}",
                       expected="blocked", found="allowed", where=rule.policy.where)
    return Finding(f"traffic {source} -> {destination}", "", f"{what} is allowed but should be blocked: "
                   f"{verdict.reason}", expected="blocked", found="allowed")


def connectivity(submission: Submission, namespace: str = NAMESPACE) -> list[Finding]:
    """The submission's policies give exactly the intended connectivity (`EXPECTED`):
    each cell that differs is a finding naming from, to, expected, found and why."""
    if not _policy_manifests(submission):
        return _no_policy()
    expected = expected_matrix()
    computed = matrix(submission, namespace)
    return [_mismatch(source, destination, computed[(source, destination)], expected[(source, destination)])
            for source, destination in expected if computed[(source, destination)].allowed != expected[(source, destination)]]


READINESS_PATH = "/readyz"


def api_readiness(submission: Submission) -> list[Finding]:
    """api has a readiness probe, httpGet /readyz on its http port: /readyz answers only
    once api reaches db, so an api that cannot (a policy too tight) gets no traffic."""
    api = tier_named("api")
    workload = submission.workload_of(api)
    if workload is None:
        return [Finding(f"{api.controller}/{api.name}", "", "no workload for the api tier",
                        expected=api.controller, found=None)]
    prefix = "" if workload.kind == "Pod" else "spec.template."
    manifest = next((m for m in submission.manifests if m.ref == workload.ref), None)
    where = str(manifest.source) if manifest is not None else None
    findings = []
    for index, container in enumerate(listed(workload.template, "spec", "containers")):
        path = f"{prefix}spec.containers[{index}].readinessProbe"
        probe = dig(container, "readinessProbe")
        if not isinstance(probe, dict):
            findings.append(Finding(workload.ref, path, (
                "no readiness probe: api would get traffic before it can reach db"),
                expected=f"httpGet {READINESS_PATH} on port {api.port_name}", found=None, where=where))
            continue
        get = dig(probe, "httpGet")
        if not isinstance(get, dict):
            findings.append(Finding(workload.ref, path, f"api's readiness is its {READINESS_PATH} answer: use httpGet",
                                    expected=f"httpGet {READINESS_PATH}", found=sorted(probe), where=where))
            continue
        if dig(get, "path") != READINESS_PATH:
            findings.append(Finding(workload.ref, f"{path}.httpGet.path", (
                f"{READINESS_PATH} is the path that checks db; another path says nothing about it"),
                expected=READINESS_PATH, found=dig(get, "path"), where=where))
        port = dig(get, "port")
        if port is None or resolve_target_port(port, "TCP", workload)[0] is None:
            findings.append(Finding(workload.ref, f"{path}.httpGet.port", "the probe checks a port the container "
                                    "does not declare", expected=f"{api.port_name} or {api.port}", found=port, where=where))
    return findings


# The rules checkpoint 4 grades over policies, by check id; each takes the submission and
# the namespace its policies apply in. `policy_wide_open` feeds a hidden check (grader.hidden).
RULES: Mapping[str, Callable[[Submission, str], list[Finding]]] = {
    "policy-values": lambda submission, _namespace: policy_values(submission),
    "policy-selectors": policy_selectors,
    "policy-ports": policy_ports,
    "default-deny": default_deny,
    "dns-egress": dns_egress,
    "connectivity": connectivity,
    "api-readiness": lambda submission, _namespace: api_readiness(submission),
}
