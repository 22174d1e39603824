"""What the grader saw in the cluster, as plain data: the objects applied in the
namespace, its pods, each Service's EndpointSlices, and the routing truth table.

Collected once per grading run by `grader.observe`; the rules in `state_rules` and
`routing` read it without touching the cluster, so they are tested like the static
rules, on data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from course.traffic import Failure


class Reach(enum.Enum):
    """Expected or observed outcome of one route."""

    ALLOWED = "allowed"
    BLOCKED = "blocked"
    NOT_PROBED = "not probed"
    WRONG_TIER = "wrong tier"  # something answered, but not the tier the route leads to
    OTHER_NAMESPACE = "other namespace"  # a pod of another namespace answered (node ports are cluster-wide)


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


@dataclass(frozen=True)
class Endpoint:
    address: str
    ready: bool
    pod: str | None


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
    answered_by: str | None = None  # the pod that answered, when one said so

    @property
    def matches(self) -> bool:
        return self.observed == self.expected


@dataclass
class LiveState:
    namespace: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # "Kind/name" -> live object
    pods: list[Pod] = field(default_factory=list)
    endpoints: dict[str, list[Endpoint]] = field(default_factory=dict)  # Service name -> endpoints
    node_images: set[str] | None = None  # None when the grader may not read nodes
    routes: list[Route] = field(default_factory=list)
    self_healing: str | None = None  # outcome of the opt-in disruption check

    def pods_of(self, labels: dict[str, str]) -> list[Pod]:
        return [p for p in self.pods if not p.deleting and all(p.labels.get(k) == v for k, v in labels.items())]
