"""The course's sample application as data: its tiers and the decisions about them.

This is the single place the grader learns names, labels and ports from; the
reference manifests under k8s/ are tested against it.
"""

from __future__ import annotations

from dataclasses import dataclass

NODE_PORT_RANGE = range(30000, 32768)
WEB_NODE_PORT = 30080


@dataclass(frozen=True)
class Tier:
    name: str  # also the Deployment/StatefulSet and the Service name
    controller: str  # the kind chosen in decision #2
    port: int
    port_name: str
    external: bool  # decision #3: reachable from outside the cluster?

    @property
    def labels(self) -> dict[str, str]:
        return {"app": self.name}


TIERS: tuple[Tier, ...] = (
    Tier("web", "Deployment", 8080, "http", external=True),
    Tier("api", "Deployment", 8080, "http", external=False),
    Tier("db", "StatefulSet", 6379, "redis", external=False),
)
TIER_NAMES = tuple(tier.name for tier in TIERS)


def course_pod_template(tier: Tier) -> dict:
    """The pod template of the course's own workload for `tier` (what checkpoint 3
    grades Services against when the learner submits Services only)."""
    return {
        "metadata": {"labels": dict(tier.labels)},
        "spec": {"containers": [{
            "name": tier.name,
            "image": f"firstapp/{tier.name}:1.0",
            "ports": [{"containerPort": tier.port, "name": tier.port_name, "protocol": "TCP"}],
        }]},
    }
