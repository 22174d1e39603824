"""Progressive hints for a lab notebook: the first time a check fails, its advice; the
second time in a row, a more specific one; from the third, the lines of the reference
solution that this check is about (and only those). A check that passes starts over.

Hidden checks never get a hint: they are counted, never revealed. Pure: the caller
keeps the `HintLadder` between attempts and reads the reference file (if the course
folder has one; a learner edition has none, and the third hint then says so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from course.errors import UnusableInput
from course.model import TIERS, Tier
from grader.findings import printable
from grader.loading import Manifest, load_text
from grader.result import CheckResult, Outcome

LEVELS = 3  # advice, specific advice, the reference's lines
NO_REFERENCE = "The reference solution is not in this copy of the course; your instructor has it."


@dataclass(frozen=True)
class Hint:
    check: str
    level: int  # 1..LEVELS
    text: str
    reference: str = ""  # level 3: the reference's lines, numbered as in its file


@dataclass
class HintLadder:
    """How many attempts in a row each check has failed, across Apply presses."""

    failures: dict[str, int] = field(default_factory=dict)

    def record(self, checks: Iterable[CheckResult]) -> dict[str, int]:
        """Counts one attempt; returns the hint level of each failing visible check."""
        levels = {}
        for check in checks:
            if check.visibility != "visible" or check.outcome is Outcome.SKIP:
                continue
            if check.outcome is Outcome.PASS:
                self.failures.pop(check.id, None)
                continue
            self.failures[check.id] = self.failures.get(check.id, 0) + 1
            levels[check.id] = min(self.failures[check.id], LEVELS)
        return levels


def _tier_of(check_id: str) -> Tier | None:
    return next((t for t in TIERS if check_id.startswith(f"{t.name}-")), None)


def _container(kind: str) -> str:
    return "spec.containers[0]" if kind == "Pod" else "spec.template.spec.containers[0]"


def specific(check: CheckResult) -> str:
    """The second, more specific hint for `check` (the findings above it say where)."""
    tier = _tier_of(check.id)
    suffix = check.id.removeprefix(f"{tier.name}-") if tier else check.id
    if tier is not None:
        by_suffix = {
            "image": f"In the {tier.name} object, under containers: write `image: {tier.image}` and "
                     "`imagePullPolicy: IfNotPresent` (the image is loaded into the cluster, never pulled).",
            "pod-healthy": f"The {tier.name} container must declare `ports: [{{name: {tier.port_name}, containerPort: "
                           f"{tier.port}}}]`; if the pod is not Ready, read its events with "
                           f"`kubectl describe pod {tier.name}`.",
            "controller": f"Change `kind:` of {tier.name} to {tier.controller} (apiVersion: apps/v1) and move the pod "
                          "into `spec.template` (its metadata.labels and spec), with `spec.selector.matchLabels` "
                          "equal to the template's labels"
                          + (f"; a StatefulSet also needs `serviceName: {tier.name}`." if tier.controller == "StatefulSet"
                             else "."),
            "service-selector": f"Service {tier.name}: `spec.selector` must be exactly `{{app: {tier.name}}}`, the "
                                f"labels of the {tier.name} pod template.",
            "service-target-port": f"Service {tier.name}: `targetPort: {tier.port_name}` (the container port's name) "
                                   f"or `targetPort: {tier.port}`.",
            "service-type": (f"Service {tier.name}: `type: NodePort` under `spec`." if tier.external else
                             f"Service {tier.name}: remove `type:` (ClusterIP is the default) and any nodePort."),
            "endpoints": f"Service {tier.name} has endpoints only if its selector matches ready pods: compare its "
                         f"`spec.selector` with `kubectl get pods -l app={tier.name}`.",
        }
        if suffix in by_suffix:
            return by_suffix[suffix]
    by_id = {
        "manifests-valid": "Look at the line each problem names: a misspelt field or one indented under the wrong "
                           "parent is the usual cause; `kubectl explain pod.spec.containers` lists the fields.",
        "images-present": "Run `firstapp up` in a terminal: it loads the three images into the cluster.",
        "liveness-probes": "Under each container: `livenessProbe: {httpGet: {path: /healthz, port: http}}` for web "
                           "and api, `livenessProbe: {tcpSocket: {port: redis}}` for db.",
        "workloads-available": "Run `kubectl get pods` in the lab's namespace: a pod not Ready or restarting names "
                               "the workload to look at; `kubectl describe pod NAME` shows why.",
        "liveness-passing": "A restarting container's liveness probe is on the wrong path or port: web and api answer "
                            "/healthz on port http, db answers TCP on port redis.",
        "self-healing": "Only a controller recreates a deleted pod: web must be a Deployment.",
        "web-node-port": "Under the web Service's port: `nodePort:` with your node port (the one your lab shows).",
        "port-names": "A port name is at most 15 characters: lowercase letters, digits and inner hyphens.",
        "applied-matches-submission": "Press Apply again: the cluster holds something other than your file.",
        "routing-in-cluster": "Read the routing table: each row that is not what was expected names its cause "
                              "(selector, targetPort or readiness).",
        "routing-from-outside": "Only web is a NodePort Service; api and db are ClusterIP (no `type:`, no nodePort).",
    }
    return by_id.get(check.id, check.general_hint)


def _reference_fields(check_id: str, reference: list[Manifest]) -> list[tuple[Manifest, list[str]]]:
    """The reference objects and field paths check `check_id` is about."""
    tier = _tier_of(check_id)
    suffix = check_id.removeprefix(f"{tier.name}-") if tier else check_id

    def workload(name: str) -> Manifest | None:
        return next((m for m in reference if m.name == name and m.kind != "Service"), None)

    def service(name: str) -> Manifest | None:
        return next((m for m in reference if m.name == name and m.kind == "Service"), None)

    wanted: list[tuple[Manifest | None, list[str]]] = []
    if tier is not None:
        w, s = workload(tier.name), service(tier.name)
        container = _container(w.kind) if w else ""
        wanted = {
            "image": [(w, [f"{container}.image", f"{container}.imagePullPolicy"])],
            "pod-healthy": [(w, [f"{container}.ports"])],
            "controller": [(w, ["apiVersion", "kind", "spec.selector", "spec.serviceName"])],
            "service-selector": [(s, ["spec.selector"])],
            "service-target-port": [(s, ["spec.ports"])],
            "service-type": [(s, ["spec.type", "spec.clusterIP"])],
            "endpoints": [(s, ["spec.selector"])],
        }.get(suffix, [])
    elif check_id in ("liveness-probes", "liveness-passing"):
        wanted = [(m, [f"{_container(m.kind)}.livenessProbe"]) for m in reference if m.kind != "Service"]
    elif check_id == "self-healing":
        wanted = [(workload("web"), ["apiVersion", "kind"])]
    elif check_id == "web-node-port":
        wanted = [(service("web"), ["spec.ports"])]
    elif check_id in ("port-names", "routing-in-cluster"):
        wanted = [(m, ["spec.selector", "spec.ports"]) for m in reference if m.kind == "Service"]
    elif check_id == "routing-from-outside":
        wanted = [(m, ["spec.type", "spec.ports"]) for m in reference if m.kind == "Service"]
    return [(m, paths) for m, paths in wanted if m is not None]


def _subtree(manifest: Manifest, path: str) -> set[int]:
    """The lines of field `path` and everything under it, with the lines naming the
    object and each parent field, so the excerpt reads in place."""
    fields = manifest.source.fields
    if path not in fields:
        return set()
    lines = {line for p, line in fields.items() if p == path or p.startswith((f"{path}.", f"{path}["))}
    parents = {fields[p] for p in ("kind", "metadata.name") if p in fields}
    prefix = path
    while True:
        cut = max(prefix.rfind("."), prefix.rfind("["))
        if cut <= 0:
            break
        prefix = prefix[:cut]
        if prefix in fields:
            parents.add(fields[prefix])
    return lines | parents


def reference_excerpt(check_id: str, reference_text: str, name: str) -> str:
    """The numbered lines of the reference (`reference_text`, read from `name`) that
    check `check_id` is about; empty if none are."""
    try:
        reference = load_text(reference_text, name)
    except UnusableInput:
        return ""
    text_lines = reference_text.splitlines()
    blocks = []
    for manifest, paths in _reference_fields(check_id, reference):
        lines: set[int] = set()
        for path in paths:
            lines |= _subtree(manifest, path)
        if not lines:
            continue
        shown_lines, previous = [], None
        for number in sorted(lines):
            if previous is not None and number > previous + 1:
                shown_lines.append("     ...")
            shown_lines.append(f"{number:>4} | {printable(text_lines[number - 1], newlines=False)}")
            previous = number
        blocks.append(f"{manifest.ref}:\n" + "\n".join(shown_lines))
    return "\n".join(blocks)


def hint(check: CheckResult, level: int, reference_text: str | None, reference_name: str = "the reference") -> Hint:
    """The hint for a failing check at `level` (1..3). `reference_text` is None when the
    course folder has no reference solution (a learner edition)."""
    if level <= 1:
        return Hint(check.id, 1, check.general_hint)
    if level == 2:
        return Hint(check.id, 2, specific(check))
    if reference_text is None:
        return Hint(check.id, 3, f"{specific(check)} {NO_REFERENCE}")
    excerpt = reference_excerpt(check.id, reference_text, reference_name)
    if not excerpt:
        return Hint(check.id, 3, specific(check))
    return Hint(check.id, 3, f"{specific(check)} The reference solution ({reference_name}) has, for this check:",
                excerpt)
