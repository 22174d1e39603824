"""The course's sample application as data: its tiers, their images and ports, and the
decisions the series makes about them. The one place names, labels, images and ports
are written; the reference manifests under k8s/ are tested against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NODE_PORT_RANGE = range(30000, 32768)
WEB_NODE_PORT = 30080  # the solo learner's: http://localhost:30080
IMAGE_TAG = "1.0"
APP_NAMESPACE = "firstapp"  # where `firstapp up --with-app` deploys the reference app
APP_URL = f"http://localhost:{WEB_NODE_PORT}"


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

    @property
    def image(self) -> str:
        """The tier's image, as built and loaded by `firstapp up` (never `:latest`)."""
        return f"firstapp/{self.name}:{IMAGE_TAG}"

    @property
    def speaks_redis(self) -> bool:
        """db answers Redis' PING; web and api answer HTTP."""
        return self.port_name == "redis"


TIERS: tuple[Tier, ...] = (
    Tier("web", "Deployment", 8080, "http", external=True),
    Tier("api", "Deployment", 8080, "http", external=False),
    Tier("db", "StatefulSet", 6379, "redis", external=False),
)
TIER_NAMES = tuple(tier.name for tier in TIERS)
IMAGES = tuple(tier.image for tier in TIERS)


def tier(name: str) -> Tier:
    return next(t for t in TIERS if t.name == name)


WEB = tier("web")
# The probe pod runs the api image: it has Python and is loaded on every provider.
PROBE_IMAGE = tier("api").image


def course_pod_template(tier: Tier) -> dict[str, Any]:
    """The pod template of the course's own workload for `tier` (what checkpoint 3
    grades Services against when the learner submits Services only)."""
    return {
        "metadata": {"labels": dict(tier.labels)},
        "spec": {"containers": [{
            "name": tier.name,
            "image": tier.image,
            "ports": [{"containerPort": tier.port, "name": tier.port_name, "protocol": "TCP"}],
        }]},
    }
