"""Reading the cluster for layers 2 and 3: one pass over the namespace's objects,
pods and EndpointSlices, then one batch of real traffic from a probe pod and from
this machine. Everything the cluster says or refuses is turned into `LiveState` or a
`ClusterUnavailable` naming what failed."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator

import urllib3
from kubernetes.client.exceptions import ApiException
from websocket import WebSocketException

from firstapp.cluster import Cluster, ClusterUnavailable
from firstapp.probe import ProbePod, from_host
from grader import routing
from grader.live import ALLOWED, BLOCKED, Endpoint, LiveState, Pod
from grader.loading import Manifest, Source

_SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "namespace",
                    "ownerReferences", "selfLink")


def _call(action: str, function, *args, **kwargs) -> Any:
    try:
        return function(*args, **kwargs)
    except ApiException as error:
        if error.status == 403:
            raise ClusterUnavailable(f"forbidden to {action}: the grader needs read access "
                                     f"(get/list) to it; ask for that permission") from None
        if error.status == 404:
            raise ClusterUnavailable(f"cannot {action}: not found") from None
        raise ClusterUnavailable(f"cannot {action}: {error.status} {error.reason}") from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise ClusterUnavailable(f"the cluster stopped answering while trying to {action}: {error}") from None


@contextmanager
def cluster_errors(cluster: Cluster) -> Iterator[None]:
    """Whatever the cluster does mid-run (stops answering, refuses) ends the run with
    one message naming the context, never a traceback."""
    try:
        yield
    except ApiException as error:
        raise ClusterUnavailable(f"the cluster of context {cluster.context} refused a request: "
                                 f"{error.status} {error.reason}") from None
    except (urllib3.exceptions.HTTPError, OSError, WebSocketException) as error:
        raise ClusterUnavailable(f"the cluster of context {cluster.context} stopped answering during "
                                 f"grading: {error}") from None


def collect(cluster: Cluster, namespace: str) -> LiveState:
    try:
        cluster.core.read_namespace(namespace)
    except ApiException as error:
        if error.status == 404:
            raise ClusterUnavailable(f"namespace {namespace} does not exist in context {cluster.context}") from None
        if error.status != 403:  # a learner may work in a namespace without reading Namespace objects
            raise
    live = LiveState(namespace)
    serialize = cluster.api.sanitize_for_serialization
    listings = {
        "Service": lambda: cluster.core.list_namespaced_service(namespace).items,
        "Deployment": lambda: cluster.apps.list_namespaced_deployment(namespace).items,
        "StatefulSet": lambda: cluster.apps.list_namespaced_stateful_set(namespace).items,
        "DaemonSet": lambda: cluster.apps.list_namespaced_daemon_set(namespace).items,
    }
    for kind, listing in listings.items():
        for item in _call(f"list {kind}s in namespace {namespace}", listing):
            body = serialize(item)
            body.update(apiVersion="v1" if kind == "Service" else "apps/v1", kind=kind)
            live.objects[f"{kind}/{item.metadata.name}"] = body
    for item in _call(f"list pods in namespace {namespace}", cluster.core.list_namespaced_pod, namespace).items:
        owner = (item.metadata.owner_references or [None])[0]
        if owner is None and not (item.metadata.labels or {}).get("firstapp.probe"):
            body = serialize(item)
            body.update(apiVersion="v1", kind="Pod")
            live.objects[f"Pod/{item.metadata.name}"] = body
        statuses = item.status.container_statuses or []
        live.pods.append(Pod(
            name=item.metadata.name, labels=item.metadata.labels or {}, ip=item.status.pod_ip,
            ready=any(c.type == "Ready" and c.status == "True" for c in item.status.conditions or []),
            phase=item.status.phase, owner_kind=owner.kind if owner else None,
            images=tuple(c.image for c in item.spec.containers),
            liveness=tuple(c.liveness_probe is not None for c in item.spec.containers),
            restarts=sum(s.restart_count for s in statuses),
            deleting=item.metadata.deletion_timestamp is not None))
    slices = _call(f"list EndpointSlices in namespace {namespace}",
                   cluster.discovery.list_namespaced_endpoint_slice, namespace).items
    for item in slices:
        service = (item.metadata.labels or {}).get("kubernetes.io/service-name")
        if service:
            live.endpoints.setdefault(service, []).extend(
                Endpoint(address, bool(e.conditions and e.conditions.ready), e.target_ref.name if e.target_ref else None)
                for e in item.endpoints or [] for address in e.addresses)
    try:
        live.node_images = {name for node in cluster.core.list_node().items
                            for image in node.status.images or [] for name in image.names or []}
    except ApiException:
        live.node_images = None  # a learner's account on a shared cluster may not read nodes
    return live


def as_submission(live: LiveState) -> list[Manifest]:
    """The namespace's own objects, as if submitted (for grading without a file)."""
    manifests = []
    for number, (ref, body) in enumerate(sorted(live.objects.items()), start=1):
        clean = {key: value for key, value in body.items() if key != "status"}
        clean["metadata"] = {k: v for k, v in body.get("metadata", {}).items() if k not in _SERVER_METADATA}
        manifests.append(Manifest(clean, Source(f"namespace {live.namespace} (live)", number)))
    return manifests


def probe_routes(cluster: Cluster, live: LiveState, probes: list[routing.Probe], timeout: float = 2.0) -> None:
    """Sends the planned traffic and records what happened in `live.routes`."""
    inside = [p for p in probes if p.kind and p.route.source == routing.IN_CLUSTER]
    outside = [p for p in probes if p.kind and p.route.source == routing.HOST]
    if inside:
        with ProbePod(cluster, live.namespace, timeout=timeout, attempts=2) as pod:
            results = pod.batch([(p.kind, p.address) for p in inside])
        _record(inside, results, live)
    if outside:
        _record(outside, from_host([(p.kind, p.address) for p in outside], timeout=timeout, attempts=2), live)
    live.routes = [p.route for p in probes]


def _record(probes, results, live: LiveState) -> None:
    own_pods = {pod.name for pod in live.pods}
    for probe, result in zip(probes, results):
        route = probe.route
        if not result.ok:
            route.observed, route.detail = BLOCKED, result.error
        elif probe.kind == "redis":
            answered = result.body == "+PONG"
            route.observed = ALLOWED if answered else "wrong tier"
            route.detail = "Redis answered PONG" if answered else f"not Redis: {result.body[:60]!r} answered"
        else:
            try:
                who = result.json()
            except ValueError:
                who = {}
            if result.status == 200 and who.get("pod") and who["pod"] not in own_pods:
                # Node ports are cluster-wide: another namespace's web may hold 30080.
                route.observed = "other namespace"
                route.detail = f"pod {who['pod']}, not in namespace {live.namespace}, answered"
            elif result.status == 200 and (probe.healthy_is_enough or who.get("tier") == route.tier):
                route.observed, route.detail = ALLOWED, f"pod {who.get('pod')} answered"
            else:
                route.observed = "wrong tier"
                route.detail = f"HTTP {result.status}, tier {who.get('tier', '?')} answered"


def disrupt(cluster: Cluster, live: LiveState, deployment: str = "web", timeout: float = 90.0) -> None:
    """The opt-in self-healing check: delete one pod of `deployment`, see it replaced."""
    pods = [p for p in live.pods_of({"app": deployment}) if p.owner_kind == "ReplicaSet"]
    if not pods:
        live.self_healing = f"no pod of Deployment {deployment} to delete"
        return
    victim = pods[0].name
    _call(f"delete pod {victim}", cluster.core.delete_namespaced_pod, victim, live.namespace)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = _call("list pods", cluster.core.list_namespaced_pod, live.namespace,
                        label_selector=f"app={deployment}").items
        replacements = [p for p in current if p.metadata.name != victim and p.metadata.deletion_timestamp is None
                        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        if len(replacements) >= len(pods):
            live.self_healing = f"replaced: deleted {victim}, {replacements[0].metadata.name} is ready"
            return
        time.sleep(0.5)
    live.self_healing = f"not replaced within {timeout:.0f} s after deleting {victim}"
