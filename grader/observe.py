"""Reading the cluster for layers 2 and 3: one pass over the namespace's objects,
pods and EndpointSlices, then one batch of real traffic from a probe pod and from
this machine (for checkpoint 4, the connectivity truth table from the tiers' own pods),
and the opt-in disruptions (a web pod deleted, db taken away for a moment). What the
cluster says becomes `LiveState`; what it refuses leaves as the typed errors of
`course.errors`. What the learner's pods answer is untrusted input: `course.traffic`
bounds it (time and size), `grader.routing` validates it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from course.cluster import Cluster, pod_is_ready
from course.errors import ClusterUnavailable, Forbidden, NotFound
from course.place import INGRESS_ADDRESS, NODE_ADDRESS_ANNOTATION, NODE_PORT_ANNOTATION, namespace_host
from course.probe import PROBE_LABEL, ProbePod
from course.traffic import ProbeResult, ProbeSpec, from_host, run_batch
from grader import connectivity, policy_rules, routing
from grader.live import ENDPOINTSLICE_CONTROLLER, MANAGED_BY, Endpoint, LiveState, Pod
from grader.loading import Manifest, Source
from grader.state_rules import without_server_fields
from grader.submission import Submission

_READ_HINT = "the grader needs read access (get/list) to it; ask for that permission"


def collect(cluster: Cluster, namespace: str, networking: bool = False) -> LiveState:
    """`networking`: the lab grades NetworkPolicies and Ingresses too, so they are read."""
    live = LiveState(namespace)
    try:
        with cluster.errors(f"read namespace {namespace}"):
            metadata = cluster.core.read_namespace(namespace).metadata
        annotations, labels = metadata.annotations or {}, metadata.labels or {}
    except NotFound as error:
        raise ClusterUnavailable(f"namespace {namespace} does not exist in context {cluster.context}") from error
    except Forbidden:
        annotations, labels = {}, {}  # a learner may work in a namespace without reading Namespace objects
    port = annotations.get(NODE_PORT_ANNOTATION, "")
    if port.isdigit():  # a class learner's namespace: their own node port, at the node's address
        live.node_port = int(port)
        live.node_address = annotations.get(NODE_ADDRESS_ANNOTATION) or live.node_address
    live.host = namespace_host(labels)  # a class learner's namespace: their own ingress host

    def serialize(item: Any) -> dict[str, Any]:
        body: dict[str, Any] = cluster.api.sanitize_for_serialization(item)
        return body

    listings: dict[str, tuple[str, Callable[[], list[Any]]]] = {
        "Service": ("v1", lambda: cluster.core.list_namespaced_service(namespace).items),
        "Deployment": ("apps/v1", lambda: cluster.apps.list_namespaced_deployment(namespace).items),
        "StatefulSet": ("apps/v1", lambda: cluster.apps.list_namespaced_stateful_set(namespace).items),
        "DaemonSet": ("apps/v1", lambda: cluster.apps.list_namespaced_daemon_set(namespace).items),
    }
    if networking:
        listings.update({
            "NetworkPolicy": ("networking.k8s.io/v1",
                              lambda: cluster.networking.list_namespaced_network_policy(namespace).items),
            "Ingress": ("networking.k8s.io/v1", lambda: cluster.networking.list_namespaced_ingress(namespace).items),
        })
    for kind, (api_version, listing) in listings.items():
        with cluster.errors(f"list {kind}s in namespace {namespace}", _READ_HINT):
            items = listing()
        for item in items:
            body = serialize(item)
            body.update(apiVersion=api_version, kind=kind)
            live.objects[f"{kind}/{item.metadata.name}"] = body
    if networking:
        _collect_gateway_api(cluster, live)
    with cluster.errors(f"list pods in namespace {namespace}", _READ_HINT):
        pods = cluster.core.list_namespaced_pod(namespace).items
    for item in pods:
        owner = (item.metadata.owner_references or [None])[0]
        if owner is None and not (item.metadata.labels or {}).get(PROBE_LABEL):
            body = serialize(item)
            body.update(apiVersion="v1", kind="Pod")
            live.objects[f"Pod/{item.metadata.name}"] = body
        statuses = item.status.container_statuses or []
        live.pods.append(Pod(
            name=item.metadata.name, labels=item.metadata.labels or {}, ip=item.status.pod_ip,
            ready=pod_is_ready(item), phase=item.status.phase, owner_kind=owner.kind if owner else None,
            images=tuple(c.image for c in item.spec.containers),
            liveness=tuple(c.liveness_probe is not None for c in item.spec.containers),
            restarts=sum(s.restart_count for s in statuses),
            deleting=item.metadata.deletion_timestamp is not None))
    with cluster.errors(f"list EndpointSlices in namespace {namespace}", _READ_HINT):
        slices = cluster.discovery.list_namespaced_endpoint_slice(namespace).items
    for item in slices:
        labels = item.metadata.labels or {}
        service = labels.get("kubernetes.io/service-name")
        managed = labels.get(MANAGED_BY) == ENDPOINTSLICE_CONTROLLER
        if service:
            live.endpoints.setdefault(service, []).extend(
                Endpoint(address, bool(e.conditions and e.conditions.ready),
                         e.target_ref.name if e.target_ref else None, managed)
                for e in item.endpoints or [] for address in e.addresses or [])
    try:
        with cluster.errors("list nodes"):
            nodes = cluster.core.list_node().items
        live.node_images = {name for node in nodes for image in node.status.images or [] for name in image.names or []}
    except Forbidden:
        live.node_images = None  # a learner's account on a shared cluster may not read nodes
    return live


GATEWAY_API = ("gateway.networking.k8s.io", "v1")
GATEWAY_API_KINDS = {"HTTPRoute": "httproutes", "Gateway": "gateways"}


def _collect_gateway_api(cluster: Cluster, live: LiveState) -> None:
    """The namespace's HTTPRoutes and Gateways, where the cluster has the Gateway API's
    CRDs (a cluster without them has none to read) and the account may read them (a
    class learner's role grants no Gateway API rights: what they may not read, they
    could not have written either, so none is theirs to grade)."""
    group, version = GATEWAY_API
    for kind, plural in GATEWAY_API_KINDS.items():
        try:
            with cluster.errors(f"list {kind}s in namespace {live.namespace}", _READ_HINT):
                listing = cluster.custom.list_namespaced_custom_object(group, version, live.namespace, plural)
        except (NotFound, Forbidden):
            continue
        for body in listing.get("items") or []:
            body.update(apiVersion=f"{group}/{version}", kind=kind)
            live.objects[f"{kind}/{body['metadata']['name']}"] = body


def as_submission(live: LiveState) -> list[Manifest]:
    """The namespace's own objects, as if submitted (for grading without a file)."""
    return [Manifest(without_server_fields(body), Source(f"namespace {live.namespace} (live)", number))
            for number, (ref, body) in enumerate(sorted(live.objects.items()), start=1)]


def probe_routes(cluster: Cluster, live: LiveState, probes: list[routing.Probe], timeout: float = 2.0,
                 shared: ProbePod | None = None) -> None:
    """Sends the planned traffic and records what happened in `live.routes`: from a probe
    pod of the namespace, or from `shared` (one pod serving a whole class, resolving
    names as a pod of this namespace would), and from this machine."""
    inside = [p for p in probes if p.kind and p.route.source == routing.IN_CLUSTER]
    outside = [p for p in probes if p.kind and p.route.source in (routing.HOST, routing.VIA_INGRESS)]
    results: list[ProbeResult] = []
    if inside and shared is not None:
        results += shared.batch([p.spec for p in inside], as_if_in=live.namespace, via=cluster)
    elif inside:
        with ProbePod(cluster, live.namespace, timeout=timeout, attempts=2) as pod:
            results += pod.batch([p.spec for p in inside])
    if outside:
        results += _from_host(outside, live, timeout)
    routing.record(inside + outside, results, live)  # at once: host answers are checked against the pods'
    live.routes = [p.route for p in probes]


INGRESS_SETTLE = 10.0  # seconds the ingress controller may take to learn a Service's new pods
_NOT_YET_ROUTED = (502, 503)  # the controller's answers while it has no ready server for the route


def _from_host(probes: list[routing.Probe], live: LiveState, timeout: float) -> list[ProbeResult]:
    """The probes from this machine. The ingress controller learns new pods a few
    seconds after they are ready (it batches its updates), answering 503 meanwhile, so
    a probe through it that gets 502 or 503 is sent again for up to `INGRESS_SETTLE`
    seconds; an Ingress that names the wrong port keeps answering 503 and fails then."""
    resolve = {live.host: INGRESS_ADDRESS}  # the learner's host name, at the controller's address
    results = from_host([p.spec for p in probes], timeout=timeout, attempts=2, resolve=resolve)
    deadline = time.monotonic() + INGRESS_SETTLE
    while time.monotonic() < deadline:
        waiting = [i for i, (probe, result) in enumerate(zip(probes, results))
                   if probe.route.source == routing.VIA_INGRESS and result.ok and result.status in _NOT_YET_ROUTED]
        if not waiting:
            break
        time.sleep(1.0)
        for index, result in zip(waiting, from_host([probes[i].spec for i in waiting], timeout=timeout, attempts=1,
                                                    resolve=resolve)):
            results[index] = result
    return results


POLICY_SETTLE = 5.0  # seconds an enforcer may take to apply the policies to a pod it has just seen


def probe_connectivity(cluster: Cluster, live: LiveState, submission: Submission) -> None:
    """Checkpoint 4's truth table with real packets, into `live.connectivity`: each
    source's probes run inside one of its own pods (exec), the probe pod's from a pod
    that carries no tier label; a source that cannot send gets its cells unprobed."""
    pods = connectivity.running_pods(live)
    verdicts = policy_rules.matrix(submission, live.namespace)
    for source in connectivity.SOURCE_ORDER:
        sent = connectivity.targets(source, pods, live.namespace)
        predicted = [verdicts[(source, destination)].allowed for destination, _, _ in sent]
        sender = connectivity.sender(source, pods)
        results: list[ProbeResult | None]
        if sender is not None:
            def run(command: list[str], pod: str = sender) -> str:
                return cluster.exec(live.namespace, pod, command, timeout=connectivity.PROBE_TIMEOUT * 2 + 10)
            results = [*_settled(lambda specs: run_batch(run, specs, connectivity.PROBE_TIMEOUT, attempts=1),
                                 [spec for _, _, spec in sent], predicted)]
        elif source == "probe":
            with ProbePod(cluster, live.namespace, timeout=connectivity.PROBE_TIMEOUT, attempts=1) as probe:
                results = [*_settled(probe.batch, [spec for _, _, spec in sent], predicted)]
        else:
            results = [None] * len(sent)
        live.connectivity += connectivity.cells(source, sent, results, verdicts)


def _settled(send: Callable[[list[ProbeSpec]], list[ProbeResult]], specs: list[ProbeSpec],
             predicted: list[bool]) -> list[ProbeResult]:
    """The probes' results, where those that disagree with what the policies predict are
    sent again for up to `POLICY_SETTLE` seconds: an enforcer that programs rules
    (kube-router) filters a pod only once it has synced after seeing it, and the probe
    pod is new. A disagreement that lasts is the enforcer's, and is reported."""
    results = send(specs)
    deadline = time.monotonic() + POLICY_SETTLE
    while time.monotonic() < deadline:
        disagreeing = [i for i, (result, allowed) in enumerate(zip(results, predicted)) if result.ok != allowed]
        if not disagreeing:
            break
        time.sleep(0.5)
        for index, result in zip(disagreeing, send([specs[i] for i in disagreeing])):
            results[index] = result
    return results


def delete_a_web_pod(cluster: Cluster, live: LiveState, deployment: str = "web", timeout: float = 90.0) -> None:
    """Checkpoint 2's opt-in self-healing check: delete one pod of `deployment`, see it replaced."""
    pods = [p for p in live.pods_of({"app": deployment}) if p.owner_kind == "ReplicaSet"]
    if not pods:
        live.self_healing = f"no pod of Deployment {deployment} to delete"
        return
    victim = pods[0].name
    with cluster.errors(f"delete pod {victim}"):
        cluster.core.delete_namespaced_pod(victim, live.namespace)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with cluster.errors(f"list the pods of {deployment}"):
            current: list[Any] = cluster.core.list_namespaced_pod(
                live.namespace, label_selector=f"app={deployment}").items
        replacements = [p for p in current if p.metadata.name != victim and p.metadata.deletion_timestamp is None
                        and pod_is_ready(p)]
        if len(replacements) >= len(pods):
            live.self_healing = f"replaced: deleted {victim}, {replacements[0].metadata.name} is ready"
            return
        time.sleep(0.5)
    live.self_healing = f"not replaced within {timeout:.0f} s after deleting {victim}"


def _ready_endpoints(cluster: Cluster, namespace: str, service: str) -> list[str]:
    with cluster.errors(f"list the EndpointSlices of Service {service}"):
        slices = cluster.discovery.list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}").items
    return [address for item in slices for e in item.endpoints or [] if e.conditions and e.conditions.ready
            for address in e.addresses or []]


def _wait_for(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until `condition` held, or None when it did not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def take_db_away(cluster: Cluster, live: LiveState, leave_within: float = 45.0, back_within: float = 120.0) -> None:
    """Checkpoint 4's opt-in readiness check: scale StatefulSet db to 0, see api's pods
    leave Service api's endpoints (its readiness probe fails without db), scale db back
    to what it was, see api return. db comes back whatever happens in between."""
    namespace = live.namespace
    try:
        with cluster.errors(f"read StatefulSet db in namespace {namespace}"):
            replicas = cluster.apps.read_namespaced_stateful_set("db", namespace).spec.replicas or 1
    except NotFound:
        live.readiness = "not run: there is no StatefulSet db to take away"
        return
    if not _ready_endpoints(cluster, namespace, "api"):
        live.readiness = "api had no ready endpoint before db was taken away, so nothing could be seen leaving"
        return

    def scale(count: int) -> None:
        with cluster.errors(f"scale StatefulSet db to {count}"):
            cluster.apps.patch_namespaced_stateful_set_scale("db", namespace, {"spec": {"replicas": count}})

    scale(0)
    try:
        left = _wait_for(lambda: not _ready_endpoints(cluster, namespace, "api"), leave_within)
    finally:
        scale(replicas)
    back = _wait_for(lambda: bool(_ready_endpoints(cluster, namespace, "api")), back_within)
    if left is None:
        live.readiness = (f"api stayed in Service api's endpoints for {leave_within:.0f} s without db: its readiness "
                          "probe does not notice that db is gone")
    elif back is None:
        live.readiness = (f"api left Service api's endpoints {left:.0f} s after db went, but was not back "
                          f"{back_within:.0f} s after db returned")
    else:
        live.readiness = (f"left and came back: api left Service api's endpoints {left:.0f} s after db went and "
                          f"was back {back:.0f} s after db returned")
