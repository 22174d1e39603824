"""Rules for checkpoints 1 and 2 (parts 1 and 2 of the series): the tiers run the
course's images, each under the controller decision #2 asks for, each container with a
liveness probe; and, live, the pods are healthy. Pure functions of a `Submission` and
a `LiveState`."""

from __future__ import annotations

from course.model import TIERS, Tier
from grader.findings import Finding
from grader.live import LiveState
from grader.submission import Submission
from grader.workloads import dig, listed, resolve_target_port

WHY_CONTROLLER = {
    "Pod": "a bare Pod is not recreated when it dies or its node goes away, and cannot be scaled",
    "DaemonSet": "a DaemonSet runs one pod per node, not the number of replicas the tier needs",
    "ReplicaSet": "a ReplicaSet cannot roll out a new version; a Deployment manages them for you",
    "Job": "a Job runs to completion; this tier must keep serving",
}


def tier_image(submission: Submission, tier: Tier) -> list[Finding]:
    """The tier's pod template runs the course's image, pinned, never pulled."""
    workload = submission.workload_of(tier)
    if workload is None:
        return [Finding(f"Pod/{tier.name}", "", f"no Pod or workload for the {tier.name} tier",
                        expected=f"a pod running {tier.image}", found=None)]
    findings = []
    prefix = "" if workload.kind == "Pod" else "spec.template."
    containers = listed(workload.template, "spec", "containers")
    images = [dig(c, "image") for c in containers]
    if tier.image not in images:
        findings.append(Finding(workload.ref, f"{prefix}spec.containers[0].image",
                                "runs another image than the tier's", expected=tier.image, found=images[0] if images else None))
    for index, container in enumerate(containers):
        if dig(container, "imagePullPolicy") == "Always":
            findings.append(Finding(workload.ref, f"{prefix}spec.containers[{index}].imagePullPolicy",
                                    "the course's images are loaded into the cluster and cannot be pulled",
                                    expected="IfNotPresent", found="Always"))
    return findings


def tier_controller(submission: Submission, tier: Tier) -> list[Finding]:
    """Decision #2: web and api are Deployments (stateless, scaled freely), db a StatefulSet."""
    workload = submission.workload_of(tier)
    if workload is None:
        return [Finding(f"{tier.controller}/{tier.name}", "", f"no workload for the {tier.name} tier",
                        expected=tier.controller, found=None)]
    if workload.kind == tier.controller:
        return []
    why = WHY_CONTROLLER.get(workload.kind, "")
    if tier.controller == "StatefulSet" and workload.kind == "Deployment":
        why = "a database needs a stable name and identity, which a StatefulSet gives its pods"
    return [Finding(workload.ref, "kind", why or f"decision #2 picks a {tier.controller} for this tier",
                    expected=tier.controller, found=workload.kind)]


def liveness_probes(submission: Submission) -> list[Finding]:
    """Every container of every tier has a liveness probe aimed at a port it declares."""
    findings = []
    for tier in TIERS:
        workload = submission.workload_of(tier)
        if workload is None:
            continue
        prefix = "" if workload.kind == "Pod" else "spec.template."
        for index, container in enumerate(listed(workload.template, "spec", "containers")):
            path = f"{prefix}spec.containers[{index}].livenessProbe"
            probe = dig(container, "livenessProbe")
            if not isinstance(probe, dict):
                findings.append(Finding(workload.ref, path, "no liveness probe: a hung process would never "
                                        "be restarted", expected="httpGet, tcpSocket or exec", found=None))
                continue
            port = dig(probe, "httpGet", "port") or dig(probe, "tcpSocket", "port")
            if port is not None and resolve_target_port(port, "TCP", workload)[0] is None:
                findings.append(Finding(workload.ref, path, "the probe checks a port the container does not "
                                        "declare", expected=[p.get("name") or p.get("containerPort")
                                                             for p in workload.container_ports()], found=port))
    return findings


def images_present(live: LiveState) -> list[Finding]:
    if live.node_images is None:
        return []
    return [Finding("Node", "status.images", f"the image {t.image} is not loaded into the cluster; "
                    "run `firstapp up`", expected=t.image, found=None)
            for t in TIERS if not {t.image, f"docker.io/{t.image}"} & live.node_images]


def pods_healthy(live: LiveState, tier: Tier) -> list[Finding]:
    """A ready pod of the tier's image answers its health check (see the routing table)."""
    pods = [p for p in live.pods if not p.deleting and tier.image in
            {i.removeprefix("docker.io/") for i in p.images}]
    if not pods:
        return [Finding(f"Pod ({tier.name})", "", f"no pod in namespace {live.namespace} runs {tier.image}",
                        expected="a running pod", found=None)]
    if not any(p.ready for p in pods):
        return [Finding(f"Pod/{pods[0].name}", "status", "not ready", expected="Ready", found=pods[0].phase)]
    failed = [r for r in live.routes if r.tier == tier.name and not r.matches]
    return [Finding(f"route {r.target}", "", "the health check did not answer", expected=r.expected,
                    found=f"{r.observed}: {r.detail}") for r in failed]


def liveness_passing(live: LiveState) -> list[Finding]:
    findings = []
    for tier in TIERS:
        for pod in live.pods_of(tier.labels):
            if not all(pod.liveness):
                findings.append(Finding(f"Pod/{pod.name}", "spec.containers", "a container has no liveness probe",
                                        expected="a liveness probe", found=None))
            elif pod.restarts:
                findings.append(Finding(f"Pod/{pod.name}", "status.containerStatuses[].restartCount",
                                        "restarted: the liveness probe failed or the process crashed; "
                                        f"see `kubectl -n {live.namespace} describe pod {pod.name}`",
                                        expected=0, found=pod.restarts))
            elif not pod.ready:
                findings.append(Finding(f"Pod/{pod.name}", "status", "not ready", expected="Ready", found=pod.phase))
    return findings


def self_healed(live: LiveState) -> list[Finding]:
    if live.self_healing and live.self_healing.startswith("replaced"):
        return []
    return [Finding("Deployment/web", "", "a deleted pod was not replaced by its controller",
                    expected="a new ready pod", found=live.self_healing)]
