"""What the grader saw in the cluster, as plain data: the objects applied in the
namespace, its pods, each Service's EndpointSlices, the routing truth table and (for
checkpoint 4) the connectivity truth table.

Collected once per grading run by `grader.observe`; the rules in `state_rules` and
`routing` read it without touching the cluster, so they are tested like the static
rules, on data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from course.model import WEB_NODE_PORT
from course.place import SOLO_HOST
from course.traffic import Failure


class Reach(enum.Enum):
    """Expected or observed outcome of one route."""

    ALLOWED = "allowed"
    BLOCKED = "blocked"
    NOT_PROBED = "not probed"
    WRONG_TIER = "wrong tier"  # something answered, but not the tier the route leads to
    OTHER_NAMESPACE = "other namespace"  # a pod of another namespace answered (node ports are cluster-wide)
    BAD_ANSWER = "bad answer"  # something accepted the connection, but answered too slowly, too much, or garbled


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict[str, str]
    ip: str | None
    ready: bool
    phase: str
    owner_kind: str | None  # ReplicaSet, StatefulSet, ... or None for a bare Pod
    images: tuple[str, ...]
    liveness: tuple[bool, ...]  # per container: has a liveness probe
    restarts: int
    deleting: bool = False


MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
ENDPOINTSLICE_CONTROLLER = "endpointslice-controller.k8s.io"


@dataclass(frozen=True)
class Endpoint:
    address: str
    ready: bool
    pod: str | None
    # Listed by the EndpointSlice controller from the Service's selector. Traffic also
    # goes to the addresses of hand-made (or mirrored) slices, but they prove nothing
    # about the selector: the endpoints check counts managed ones only.
    managed: bool = True


@dataclass
class Route:
    """One row of the routing truth table: from where, to what, expected and observed."""

    source: str  # "probe pod" or "host"
    target: str  # what a learner would type: "http://api:8080", "localhost:30080", ...
    tier: str
    expected: Reach  # ALLOWED or BLOCKED
    observed: Reach = Reach.NOT_PROBED
    detail: str = ""  # who answered, or the error
    failure: Failure | None = None  # why the connection failed, when it did
    answered_by: str | None = None  # the pod that answered: of this namespace when identified, else as it claimed
    cause: str = ""  # the diagnosis, when what was recorded already tells it (a forged or unproven answer)

    @property
    def matches(self) -> bool:
        return self.observed == self.expected


@dataclass
class Cell:
    """One cell of checkpoint 4's connectivity truth table: from a tier's pod (or the
    probe pod) to a tier, by Service name or pod IP, expected against observed, and
    what the submitted policies say about it."""

    source: str  # "web", "api", "db", "probe"
    destination: str  # a tier
    target: str  # what was probed: "http://api:8080/healthz", "10.244.0.7:6379 (pod db-0)"
    expected: bool
    observed: bool | None  # None: not probed
    detail: str  # the probe's own words (HTTP status, or why it failed)
    predicted: bool  # what the submitted policies say (policy_rules.allowed)
    reason: str  # why they allow or block it

    @property
    def matches(self) -> bool:
        return self.observed is None or self.observed == self.expected


@dataclass
class LiveState:
    namespace: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # "Kind/name" -> live object
    pods: list[Pod] = field(default_factory=list)
    endpoints: dict[str, list[Endpoint]] = field(default_factory=dict)  # Service name -> endpoints
    node_images: set[str] | None = None  # None when the grader may not read nodes
    routes: list[Route] = field(default_factory=list)
    self_healing: str | None = None  # outcome of checkpoint 2's opt-in disruption
    readiness: str | None = None  # outcome of checkpoint 4's opt-in disruption (db taken away)
    connectivity: list[Cell] = field(default_factory=list)  # checkpoint 4's truth table
    node_port: int = WEB_NODE_PORT  # the learner's: 30080 solo, their own in a class
    node_address: str = "localhost"  # where the grader reaches node ports
    host: str = SOLO_HOST  # the host the learner's Ingress claims: firstapp.localhost solo, their own in a class

    @property
    def disrupted(self) -> bool:
        """An opt-in disruption ran (in a snapshot: ran when it was collected)."""
        return self.self_healing is not None or self.readiness is not None

    def pods_of(self, labels: dict[str, str]) -> list[Pod]:
        return [p for p in self.pods if not p.deleting and has_labels(p, labels)]

    def managed_endpoints(self, service: str) -> list[Endpoint]:
        """The endpoints the EndpointSlice controller listed for `service`'s selector."""
        return [e for e in self.endpoints.get(service, []) if e.managed]


def has_labels(pod: Pod, labels: dict[str, str]) -> bool:
    return all(pod.labels.get(k) == v for k, v in labels.items())
