"""Each graded lab as one record: the course's lab (`course.labs`: starter, reference,
namespace) with its checks (points, hints, visibility, the layer that evaluates each:
static, state, routing) and the traffic its routing layer sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from course import labs as course_labs
from course.errors import UnusableInput
from course.model import TIERS, WEB_NODE_PORT, Tier
from grader import connectivity, policy_rules, route_rules, routing, schema, service_rules, state_rules, workload_rules
from grader.checks import HOST_FIELD, ROUTING, STATE, STATIC, Check, Context, Skip, about
from grader.findings import Finding
from grader.live import LiveState
from grader.workloads import WORKLOAD_KINDS

if TYPE_CHECKING:  # the cluster client is imported only where a cluster is used
    from course.cluster import Cluster


def _valid() -> Check:
    return Check("manifests-valid", "Every object is valid Kubernetes 1.34", 1,
                 "Fix the fields named below; an unknown field is usually a typo or wrong indentation.",
                 about((), lambda ctx: schema.validate(ctx.submission.manifests)))


def _labels(tier: Tier) -> str:
    return ", ".join(f"{k}: {v}" for k, v in tier.labels.items())


def _service_checks(tier: Tier) -> list[Check]:
    decision = ("NodePort, so it is reachable from outside the cluster" if tier.external
                else "ClusterIP (or headless), so only pods inside the cluster reach it")
    return [
        Check(f"{tier.name}-service-selector", f"Service {tier.name} selects exactly the {tier.name} pods", 1,
              f"spec.selector of Service {tier.name} must match the labels of the {tier.name} pod template "
              f"({_labels(tier)}) and no other.",
              lambda ctx: service_rules.service_selector(ctx.submission, tier)),
        Check(f"{tier.name}-service-target-port", f"Service {tier.name} forwards to a port its pods listen on", 1,
              f"targetPort must name ({tier.port_name!r}) or number ({tier.port}) a container port of the "
              f"{tier.name} pods, with the same protocol.",
              lambda ctx: service_rules.service_target_ports(ctx.submission, tier)),
        Check(f"{tier.name}-service-type", f"Service {tier.name} is {decision.split(',')[0]}", 1,
              f"Decision #3: {tier.name} should be {decision}.",
              lambda ctx: service_rules.service_type(ctx.submission, tier)),
    ]


def _per_tier(suffix: str, title: Callable[[Tier], str], hint: Callable[[Tier], str],
              rule: Callable[[Context, Tier], list[Finding]], layer: str = STATIC) -> list[Check]:
    """One check per tier, `<tier>-<suffix>`, worth a point each."""
    def for_tier(tier: Tier) -> Callable[[Context], list[Finding]]:
        return lambda ctx: rule(ctx, tier)
    return [Check(f"{tier.name}-{suffix}", title(tier), 1, hint(tier), for_tier(tier), layer) for tier in TIERS]


def _checkpoint1() -> list[Check]:
    return [
        _valid(),
        *_per_tier("image", lambda t: f"A pod runs the {t.name} image",
                   lambda t: f"Run {t.image} with imagePullPolicy IfNotPresent.",
                   lambda ctx, t: workload_rules.tier_image(ctx.submission, t)),
        Check("images-present", "The three images are loaded into the cluster", 1,
              "`firstapp up` builds and loads the images.", about(WORKLOAD_KINDS, _images_present), layer=STATE),
        *_per_tier("pod-healthy", lambda t: f"The {t.name} pod starts and answers its health check",
                   lambda t: f"The pod must be Ready and answer {'Redis PING' if t.name == 'db' else '/healthz'}.",
                   lambda ctx, t: workload_rules.pods_healthy(ctx.state, t), layer=ROUTING),
    ]


def _images_present(ctx: Context) -> list[Finding]:
    if ctx.state.node_images is None:
        raise Skip("the grader may not read nodes with this account")
    return workload_rules.images_present(ctx.state)


def _checkpoint2() -> list[Check]:
    return [
        _valid(),
        *_per_tier("controller", lambda t: f"{t.name} runs under a {t.controller}",
                   lambda t: f"Decision #2: {t.name} is managed by a {t.controller}.",
                   lambda ctx, t: workload_rules.tier_controller(ctx.submission, t)),
        Check("liveness-probes", "Every container has a liveness probe", 1,
              "Add livenessProbe (httpGet /healthz on web and api, tcpSocket on db's redis port).",
              about(WORKLOAD_KINDS, lambda ctx: workload_rules.liveness_probes(ctx.submission))),
        _workloads_available(),
        Check("liveness-passing", "Liveness probes pass (no restarts)", 1,
              "A restarting container usually has a liveness probe on the wrong path or port.",
              about(WORKLOAD_KINDS, lambda ctx: workload_rules.liveness_passing(ctx.state)), layer=STATE),
        Check("self-healing", "A deleted web pod is replaced by its Deployment", 1,
              "Only a controller recreates pods; a bare Pod stays gone.", _self_healing, layer=STATE),
    ]


def _self_healing(ctx: Context) -> list[Finding]:
    if not ctx.allow_disruption:
        raise Skip("not run: it deletes a pod, so it needs --allow-disruption")
    return workload_rules.self_healed(ctx.state)


def _applied_matches_check() -> Check:
    return Check("applied-matches-submission", "What is applied is what you submitted", 1,
                 "Apply your file again (`kubectl apply -f`); the fields below differ in the cluster.",
                 _applied_matches, layer=STATE)


def _workloads_available(hint: str = "Wait for the rollout (`kubectl rollout status`), or read the pods' events.") \
        -> Check:
    return Check("workloads-available", "Every replica of every tier is ready", 1, hint,
                 lambda ctx: state_rules.workloads_available(ctx.submission, ctx.state), layer=STATE)


def _applied_matches(ctx: Context) -> list[Finding]:
    if not ctx.submitted_file:
        raise Skip("no submission given (--manifests): graded what is applied")
    return state_rules.applied_matches(ctx.submission, ctx.state)


def _checkpoint3() -> list[Check]:
    return [
        _valid(),
        *[check for tier in TIERS for check in _service_checks(tier)],
        Check("web-node-port", "Service web opens your node port", 1,
              f"Set spec.ports[].nodePort on the web Service to your node port ({WEB_NODE_PORT} on your own "
              "cluster; in a class, the one your lab notebook shows); the cluster forwards it to web.",
              lambda ctx: service_rules.web_node_port(ctx.submission, ctx.node_port)),
        Check("port-names", "Port names are valid", 1,
              "Container port names are at most 15 characters (lowercase, digits, hyphens); "
              "Service port names are DNS labels, required when a Service has several ports.",
              about(("Service",), lambda ctx: service_rules.port_names(ctx.submission))),
        *_hidden_checks("checkpoint-3"),
        _applied_matches_check(),
        _workloads_available(),
        *_per_tier("endpoints", lambda t: f"Service {t.name}'s endpoints are exactly the ready {t.name} pods",
                   lambda t: "EndpointSlices list the ready pods a Service's selector matches.",
                   lambda ctx, t: state_rules.endpoints_match_ready_pods(ctx.submission, ctx.state, t), layer=STATE),
        Check("routing-in-cluster", "Inside the cluster every tier answers by name, FQDN, ClusterIP and pod IP", 1,
              "See the routing table: each mismatch names its likely cause.",
              lambda ctx: routing.routing_findings(ctx.state, routing.IN_CLUSTER), layer=ROUTING),
        Check("routing-from-outside", "From outside only web answers (on your node port)", 1,
              "See the routing table: web must answer on the node port; api and db must not.",
              lambda ctx: routing.routing_findings(ctx.state, routing.HOST), layer=ROUTING),
    ]


def _namespace(ctx: Context) -> str:
    """Where the policies apply: the graded namespace, else (static) the lab's own."""
    return ctx.live.namespace if ctx.live is not None else policy_rules.NAMESPACE


def _policy_check(check_id: str, title: str, hint: str, kinds: tuple[str, ...] = ("NetworkPolicy",)) -> Check:
    rule = policy_rules.RULES[check_id]
    return Check(check_id, title, 1, hint, about(kinds, lambda ctx: rule(ctx.submission, _namespace(ctx))))


def _readiness_live(ctx: Context) -> list[Finding]:
    if not ctx.allow_disruption:
        raise Skip("not run: it takes db away for a moment, so it needs --allow-disruption")
    return state_rules.readiness_seen(ctx.state)


def _published_live(ctx: Context) -> list[Finding]:
    if not any(m.kind == "Ingress" for m in ctx.submission.manifests) and \
            any(m.kind == "HTTPRoute" for m in ctx.submission.manifests):
        raise Skip("no Gateway API implementation runs on the course's clusters: an HTTPRoute is graded statically "
                   "(web-published); an Ingress is also routed live")
    return routing.routing_findings(ctx.state, routing.VIA_INGRESS) + routing.routing_findings(ctx.state, routing.HOST)


def _checkpoint4() -> list[Check]:
    return [
        _valid(),
        _policy_check("policy-values", "Every NetworkPolicy is one the API server accepts",
                      "Peers need a podSelector, namespaceSelector or ipBlock; ports are numbers or port names."),
        _policy_check("policy-selectors", "Every policy and every peer selects pods that exist",
                      "A selector selects pods by their labels: compare it with the pod template's labels."),
        _policy_check("policy-ports", "Every policy port is one the pods listen on",
                      "A named port must be a container port's name; a number, a container port's number."),
        _policy_check("default-deny", "Every pod is isolated for ingress and egress (default deny)",
                      "A policy with podSelector: {} and policyTypes [Ingress, Egress] denies what no rule allows."),
        _policy_check("dns-egress", "web and api may still ask the cluster DNS",
                      "Allow egress to the kube-dns pods (k8s-app: kube-dns in kube-system) on port 53, UDP and TCP."),
        _policy_check("connectivity", "Your policies allow exactly outside -> web -> api -> db",
                      "Each path below says which policy lets it through, or which one isolates it."),
        Check("web-published", f"An Ingress (or HTTPRoute) publishes web at http://{HOST_FIELD}/", 1,
              f"ingressClassName {route_rules.INGRESS_CLASS}, host {HOST_FIELD}, path / (Prefix) to Service "
              "web on a port the Service defines; no path to api or db.",
              lambda ctx: route_rules.web_published(ctx.submission, ctx.host)),
        Check("services-cluster-ip", "No Service opens a node port any more", 1,
              "The Ingress is the way in now: make web a ClusterIP Service.",
              about(("Service",), lambda ctx: route_rules.services_cluster_ip(ctx.submission))),
        _policy_check("api-readiness", "api has a readiness probe on /readyz",
                      "readinessProbe: httpGet /readyz on port http; /readyz fails while api cannot reach db.",
                      WORKLOAD_KINDS),
        *_hidden_checks("checkpoint-4"),
        _applied_matches_check(),
        _workloads_available("A tier that is not ready often lost its DNS or its database to a policy: see the "
                             "connectivity table."),
        Check("connectivity-live", "Real packets: web reaches api, api reaches db, and nothing else", 1,
              "Each cell that differs names the policy behind it.",
              lambda ctx: connectivity.findings(ctx.state), layer=ROUTING),
        Check("published-live", f"From outside, http://{HOST_FIELD}/ reaches web, and only web", 1,
              "See the routing table: web must answer through the ingress controller; no node port may lead in.",
              _published_live, layer=ROUTING),
        Check("api-readiness-live", "Without db, api leaves its Service, and comes back with it", 1,
              "api's readiness probe must fail while db is away: httpGet /readyz.", _readiness_live, layer=STATE),
    ]


def _hidden_checks(lab_id: str) -> list[Check]:
    """The instructor's hidden checks, counted but never shown to a learner. They live
    in `grader.hidden`, which a learner edition (`firstapp class release`) leaves out."""
    try:
        from grader.hidden import checks
    except ModuleNotFoundError:
        return []
    return checks(lab_id)


def _delete_a_web_pod(cluster: Cluster, live: LiveState) -> None:
    from grader import observe

    observe.delete_a_web_pod(cluster, live)


def _take_db_away(cluster: Cluster, live: LiveState) -> None:
    from grader import observe

    observe.take_db_away(cluster, live)


RoutePlan = Callable[[LiveState], list[routing.Probe]]
Disrupt = Callable[["Cluster", LiveState], None]


@dataclass(frozen=True)
class GradedLab:
    lab: course_labs.Lab
    checks: tuple[Check, ...]
    route_plan: RoutePlan | None  # the traffic its routing layer sends, if any
    disrupt: Disrupt | None = None  # what its opt-in disruption does (`course.labs.Lab.disruption`)

    @property
    def max_score(self) -> int:
        return sum(check.points for check in self.checks)

    def checks_in(self, layers: tuple[str, ...]) -> list[Check]:
        return [check for check in self.checks if check.layer in layers]


_CHECKS: dict[str, tuple[Callable[[], list[Check]], RoutePlan | None, Disrupt | None]] = {
    "checkpoint-1": (_checkpoint1, routing.health_plan, None),
    "checkpoint-2": (_checkpoint2, None, _delete_a_web_pod),
    "checkpoint-3": (_checkpoint3, routing.plan, None),
    "checkpoint-4": (_checkpoint4, routing.publication_plan, _take_db_away),
}
LABS: dict[str, GradedLab] = {lab_id: GradedLab(course_labs.LABS[lab_id], tuple(checks()), plan, disrupt)
                              for lab_id, (checks, plan, disrupt) in _CHECKS.items()}


def graded_lab(lab_id: str) -> GradedLab:
    """The lab's record; `UnusableInput` naming the labs there are for any other id."""
    if lab_id not in LABS:
        raise UnusableInput(f"unknown lab {lab_id!r}; the labs are {', '.join(sorted(LABS))}")
    return LABS[lab_id]
