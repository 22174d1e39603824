"""Lab definitions as data: which checks a checkpoint has, their points, hints and
visibility, and which layer (static, state, routing) evaluates them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from grader import schema, service_rules
from grader.course import TIERS, WEB_NODE_PORT
from grader.errors import UnusableInput
from grader.findings import Finding
from grader.submission import Submission

STATIC = "static"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    hint: str  # what to look at when it fails; the findings add the specifics
    evaluate: Callable[[Submission], list[Finding]]
    layer: str = STATIC
    visibility: str = "visible"  # or "hidden": counted, never revealed to the learner


def _tier_checks(tier) -> list[Check]:
    decision = ("NodePort, so it is reachable from outside the cluster" if tier.external
                else "ClusterIP (or headless), so only pods inside the cluster reach it")
    return [
        Check(f"{tier.name}-service-selector", f"Service {tier.name} selects exactly the {tier.name} pods", 1,
              f"spec.selector of Service {tier.name} must match the labels of the {tier.name} pod template "
              f"({', '.join(f'{k}: {v}' for k, v in tier.labels.items())}) and no other.",
              partial(service_rules.service_selector, tier=tier)),
        Check(f"{tier.name}-service-target-port", f"Service {tier.name} forwards to a port its pods listen on", 1,
              f"targetPort must name ({tier.port_name!r}) or number ({tier.port}) a container port of the "
              f"{tier.name} pods, with the same protocol.",
              partial(service_rules.service_target_ports, tier=tier)),
        Check(f"{tier.name}-service-type", f"Service {tier.name} is {decision.split(',')[0]}", 1,
              f"Decision #3: {tier.name} should be {decision}.",
              partial(service_rules.service_type, tier=tier)),
    ]


def _checkpoint3() -> list[Check]:
    return [
        Check("manifests-valid", "Every object is valid Kubernetes 1.34", 1,
              "Fix the fields named below; an unknown field is usually a typo or wrong indentation.",
              lambda submission: schema.validate(submission.manifests)),
        *[check for tier in TIERS for check in _tier_checks(tier)],
        Check("web-node-port", f"Service web opens node port {WEB_NODE_PORT}", 1,
              f"Set spec.ports[].nodePort: {WEB_NODE_PORT} on the web Service; the cluster forwards "
              f"http://localhost:{WEB_NODE_PORT} to it.",
              service_rules.web_node_port),
        Check("port-names", "Port names are valid", 1,
              "Container port names are at most 15 characters (lowercase, digits, hyphens); "
              "Service port names are DNS labels, required when a Service has several ports.",
              service_rules.port_names),
        Check("no-extra-exposure", "No other Service exposes the application outside the cluster", 1,
              "Only web should be reachable from outside; remove NodePort/LoadBalancer/externalIPs "
              "from every other Service.",
              service_rules.no_extra_exposure, visibility="hidden"),
    ]


LABS: dict[str, Callable[[], list[Check]]] = {
    "checkpoint-3": _checkpoint3,
}


def checks_of(lab: str, layers: tuple[str, ...]) -> list[Check]:
    if lab not in LABS:
        raise UnusableInput(f"unknown lab {lab!r}; the labs are {', '.join(sorted(LABS))}")
    return [check for check in LABS[lab]() if check.layer in layers]
