"""Reading workloads and Services the way Kubernetes does: pod templates, label
selectors, container ports. Pure functions over plain dicts; malformed fields (the
schema layer reports them) read as absent instead of raising: a rule iterates over
`listed(...)`, never over what a learner wrote where a list belongs (`ports: 5`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.findings import shown
from grader.loading import Manifest

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "Pod")


def dig(value: Any, *keys: str | int, default: Any = None) -> Any:
    """`value[k1][k2]...`, or `default` where a level is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return default
        elif not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return default if value is None else value


def listed(value: Any, *keys: str | int) -> list[Any]:
    """The list at `value[k1][k2]...`, or [] where it is missing or not a list."""
    found = dig(value, *keys)
    return found if isinstance(found, list) else []


def mapping(value: Any, *keys: str | int) -> dict[str, Any]:
    """The mapping at `value[k1][k2]...`, or {} where it is missing or not a mapping."""
    found = dig(value, *keys)
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class Workload:
    """A pod template and what owns it (a controller, or a bare Pod)."""

    ref: str
    kind: str
    name: str
    template: dict[str, Any]

    @property
    def labels(self) -> dict[str, Any]:
        return mapping(self.template, "metadata", "labels")

    def container_ports(self) -> list[dict[str, Any]]:
        """Every declared port of every container (init containers serve no traffic)."""
        ports = []
        for container in listed(self.template, "spec", "containers"):
            for port in listed(container, "ports"):
                if isinstance(port, dict):
                    ports.append({**port, "_container": dig(container, "name", default="?")})
        return ports


def workloads_of(manifests: list[Manifest]) -> list[Workload]:
    found = []
    for manifest in manifests:
        if manifest.kind not in WORKLOAD_KINDS:
            continue
        template = manifest.body if manifest.kind == "Pod" else dig(manifest.body, "spec", "template", default={})
        if manifest.kind == "Job":
            template = dig(manifest.body, "spec", "template", default={})
        found.append(Workload(manifest.ref, manifest.kind, manifest.name, template if isinstance(template, dict) else {}))
    return found


def selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """A Service's equality selector matches when every pair is among the labels."""
    return bool(selector) and all(str(labels.get(key)) == str(value) and key in labels
                                  for key, value in selector.items())


def resolve_target_port(target: Any, port_protocol: str, workload: Workload) -> tuple[dict[str, Any] | None, str]:
    """The container port a Service port's targetPort lands on, or None and why not.

    A number must equal a declared containerPort with the same protocol; a name must
    equal a container port's name with the same protocol (as the endpoints controller
    resolves it). A string is a name even when it is all digits: Kubernetes reads
    "8080" as a port name (and the API server refuses it, a name needs a letter).
    """
    ports = workload.container_ports()
    if isinstance(target, str):
        named = [p for p in ports if p.get("name") == target]
        if not named and target.isdigit():
            return None, (f"no container port is named {shown(target)!r} (in quotes a number is a port name; "
                          "write the number without quotes)")
        if not named:
            return None, f"no container port is named {shown(target)!r}"
    else:
        named = [p for p in ports if str(p.get("containerPort")) == str(target)]
        if not named:
            return None, f"no container declares containerPort {shown(target)}"
    same_protocol = [p for p in named if p.get("protocol", "TCP") == port_protocol]
    if not same_protocol:
        return None, f"the container port uses protocol {named[0].get('protocol', 'TCP')}, the Service port {port_protocol}"
    return same_protocol[0], ""
