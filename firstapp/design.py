"""Decision #3 as pure data: for each tier a Service type, the Services that decision
means in YAML, and who can reach what because of it. The widgets show these; the
grader checks the same decision."""

from __future__ import annotations

import yaml

from course.model import TIERS, WEB_NODE_PORT

SERVICE_TYPES = ("ClusterIP", "NodePort")
KUBERNETES_DEFAULT = {tier.name: "ClusterIP" for tier in TIERS}  # what you get by saying nothing
COURSE_DECISION = {tier.name: "NodePort" if tier.external else "ClusterIP" for tier in TIERS}
SOURCES = ("outside the cluster", "a pod in the cluster")


def services(decision: dict[str, str], node_port: int = WEB_NODE_PORT) -> list[dict]:
    """The three Services for a decision, as the course writes them (what the widget's
    Apply applies; checkpoint 3 asks the learner to write them)."""
    objects = []
    for tier in TIERS:
        kind = decision[tier.name]
        port = {"name": tier.port_name, "port": tier.port, "targetPort": tier.port_name}
        if kind == "NodePort" and tier.external:
            port["nodePort"] = node_port
        objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": tier.name},
                        "spec": {"type": kind, "selector": dict(tier.labels), "ports": [port]}})
    return objects


def services_yaml(decision: dict[str, str], node_port: int = WEB_NODE_PORT) -> str:
    return yaml.safe_dump_all(services(decision, node_port), sort_keys=False)


PREVIEW_NOTE = ("# Your decision #3: each tier's Service type. Selectors and ports are left out\n"
                "# on purpose: checkpoint 3 asks you to write them (Apply fills them in here).\n")


def preview_yaml(decision: dict[str, str]) -> str:
    """The learner's choices as partial Services: kind, name and type only, never a
    complete checkpoint-3 answer (no selector, no ports, no nodePort)."""
    parts = []
    for tier in TIERS:
        body = yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": tier.name},
                               "spec": {"type": decision[tier.name]}}, sort_keys=False)
        extra = "nodePort, selector and ports" if decision[tier.name] == "NodePort" else "selector and ports"
        parts.append(body + f"  # {extra} are yours to write in checkpoint 3\n")
    return PREVIEW_NOTE + "---\n".join(parts)


def reachability(decision: dict[str, str]) -> dict[tuple[str, str], bool]:
    """(source, tier) -> reachable. Every Service is reachable from pods; only a node
    port opens a tier to the outside."""
    table = {}
    for tier in TIERS:
        table[("a pod in the cluster", tier.name)] = True
        table[("outside the cluster", tier.name)] = decision[tier.name] == "NodePort"
    return table


def mistakes(decision: dict[str, str]) -> list[str]:
    """What the decision gets wrong against the series' advice, in a sentence each."""
    found = []
    for tier in TIERS:
        outside = decision[tier.name] == "NodePort"
        if tier.external and not outside:
            found.append(f"{tier.name}: users outside the cluster cannot reach the frontend")
        if not tier.external and outside:
            found.append(f"{tier.name}: exposed outside the cluster, where nobody should reach it directly")
    return found
