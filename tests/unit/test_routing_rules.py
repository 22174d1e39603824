"""Layer 3's pure parts on constructed cluster states: the probe plan, what answers
mean, the diagnosis of each kind of mismatch, and the probe batching with retries.
The same code runs against real packets in tests/cluster/test_live_grading.py."""

from __future__ import annotations

import json

import pytest

from course.model import WEB_NODE_PORT
from course.traffic import Failure, ProbeResult, classify, run_batch
from grader import routing
from grader.live import Endpoint, LiveState, Pod, Reach
from grader.state_rules import differences, without_server_fields

NS = "learner"


def pod(name: str, app: str, ip: str, ready: bool = True) -> Pod:
    return Pod(name, {"app": app}, ip, ready, "Running", "ReplicaSet", (f"firstapp/{app}:1.0",), (True,), 0)


def service(name: str, type_: str = "ClusterIP", node_port: int | None = None, port: int = 8080) -> dict:
    spec_port: dict = {"name": "http", "port": port, "targetPort": "http"}
    if node_port:
        spec_port["nodePort"] = node_port
    return {"kind": "Service", "metadata": {"name": name},
            "spec": {"type": type_, "clusterIP": f"10.96.0.{len(name)}", "ports": [spec_port]}}


def state(**changes) -> LiveState:
    """The reference checkpoint 3, as the grader would read it, with `changes` applied."""
    live = LiveState(NS)
    live.objects = {"Service/web": service("web", "NodePort", WEB_NODE_PORT), "Service/api": service("api"),
                    "Service/db": service("db", port=6379)}
    live.pods = [pod("web-1", "web", "10.244.0.10"), pod("api-1", "api", "10.244.0.11"),
                 pod("db-0", "db", "10.244.0.12")]
    live.endpoints = {p.labels["app"]: [Endpoint(p.ip, True, p.name)] for p in live.pods}
    for key, value in changes.items():
        setattr(live, key, value)
    return live


def test_plan_probes_every_name_clusterip_and_pod_ip_and_the_outside():
    probes = routing.plan(state())
    inside = [p.route.target for p in probes if p.route.source == routing.IN_CLUSTER]
    assert "http://api:8080/whoami" in inside and f"http://api.{NS}.svc.cluster.local:8080/whoami" in inside
    assert "db:6379" in inside and "10.96.0.2:6379" in inside
    assert "http://10.244.0.11:8080/whoami (pod api-1)" in inside
    outside = {p.route.target: p.route for p in probes if p.route.source == routing.HOST}
    assert outside[f"http://localhost:{WEB_NODE_PORT}/whoami"].expected is Reach.ALLOWED
    # api and db have no node port: blocked without sending a packet
    unsent = [p for p in probes if not p.kind]
    assert {p.route.tier for p in unsent} == {"api", "db"}
    assert all(p.route.observed is Reach.BLOCKED and p.route.matches for p in unsent)


def test_plan_probes_a_node_port_of_api_expecting_it_blocked():
    probes = routing.plan(state(objects={**state().objects, "Service/api": service("api", "NodePort", 31000)}))
    api_outside = [p for p in probes if p.route.source == routing.HOST and p.route.tier == "api"]
    assert [(p.address, p.route.expected) for p in api_outside] == [("http://localhost:31000/whoami", Reach.BLOCKED)]


def test_plan_without_a_service_keeps_one_unprobed_row():
    live = state(objects={k: v for k, v in state().objects.items() if k != "Service/db"})
    rows = [p.route for p in routing.plan(live) if p.route.tier == "db" and p.route.source == routing.IN_CLUSTER]
    assert rows[0].target == "db (no Service)" and rows[0].observed is Reach.NOT_PROBED


def whoami(tier: str, pod_name: str) -> ProbeResult:
    return ProbeResult(True, 200, json.dumps({"tier": tier, "pod": pod_name}))


@pytest.mark.parametrize("result, observed, detail", [
    (whoami("api", "api-1"), Reach.ALLOWED, "pod api-1 answered"),
    (whoami("web", "web-1"), Reach.WRONG_TIER, "tier web answered"),
    (whoami("api", "api-7f-other"), Reach.OTHER_NAMESPACE, "not in namespace"),
    (ProbeResult(True, 200, "[]"), Reach.WRONG_TIER, "tier ? answered"),  # not a JSON object: no crash
    (ProbeResult(True, 200, "not json"), Reach.WRONG_TIER, "HTTP 200"),
    (ProbeResult(False, error="ConnectionRefusedError: refused", failure=Failure.REFUSED), Reach.BLOCKED, "refused"),
])
def test_record_reads_who_answered(result, observed, detail):
    live = state()
    probe = routing.Probe(routing.Route(routing.IN_CLUSTER, "http://api:8080/whoami", "api", Reach.ALLOWED),
                          "http", "http://api:8080/whoami")
    routing.record([probe], [result], live)
    assert probe.route.observed is observed and detail in probe.route.detail


def test_record_redis_needs_pong():
    live = state()
    probes = [routing.Probe(routing.Route(routing.IN_CLUSTER, "db:6379", "db", Reach.ALLOWED), "redis", "db:6379")
              for _ in range(2)]
    routing.record(probes, [ProbeResult(True, body="+PONG"), ProbeResult(True, body="HTTP/1.1 400")], live)
    assert [p.route.observed for p in probes] == [Reach.ALLOWED, Reach.WRONG_TIER]


def mismatch(target: str, tier: str, observed: Reach, source: str = routing.IN_CLUSTER,
             expected: Reach = Reach.ALLOWED, **route) -> routing.Route:
    return routing.Route(source, target, tier, expected, observed, **route)


@pytest.mark.parametrize("route, changes, cause", [
    (mismatch("http://localhost:31000/whoami", "api", Reach.ALLOWED, routing.HOST, Reach.BLOCKED), {}, "service type"),
    (mismatch("http://api:8080/whoami", "api", Reach.WRONG_TIER, detail="HTTP 200, tier web answered"), {}, "selector: another tier"),
    (mismatch("http://api:8080/whoami", "api", Reach.BLOCKED, failure=Failure.TIMEOUT),
     {"pods": [pod("api-1", "api", "10.244.0.11", ready=False)]}, "readiness"),
    (mismatch("http://api:8080/whoami", "api", Reach.BLOCKED, failure=Failure.TIMEOUT),
     {"endpoints": {}}, "selector: the Service's EndpointSlices list no ready pod"),
    (mismatch("http://api:8080/whoami", "api", Reach.BLOCKED, failure=Failure.REFUSED, detail="refused"), {}, "targetPort"),
    (mismatch("http://api:8080/whoami", "api", Reach.BLOCKED, failure=Failure.TIMEOUT, detail="timed out"), {},
     "the route failed: timed out"),
    (mismatch(f"http://localhost:{WEB_NODE_PORT}/whoami", "web", Reach.OTHER_NAMESPACE, routing.HOST), {},
     "belongs to another namespace"),
])
def test_diagnose_names_the_likely_cause(route, changes, cause):
    assert cause in routing.diagnose(route, state(**changes))


def test_diagnose_outside_route_names_type_then_node_port():
    route = mismatch(f"http://localhost:{WEB_NODE_PORT}/whoami", "web", Reach.BLOCKED, routing.HOST)
    as_clusterip = state(objects={**state().objects, "Service/web": service("web")})
    assert routing.diagnose(route, as_clusterip).startswith("service type: web must be a NodePort")
    other_port = state(objects={**state().objects, "Service/web": service("web", "NodePort", 30099)})
    assert routing.diagnose(route, other_port).startswith(f"nodePort: the web Service does not open {WEB_NODE_PORT}")


def test_routing_findings_only_for_mismatches_of_that_source():
    live = state(routes=[mismatch("a", "api", Reach.ALLOWED), mismatch("b", "api", Reach.BLOCKED),
                         mismatch("c", "web", Reach.BLOCKED, routing.HOST)])
    findings = routing.routing_findings(live, routing.IN_CLUSTER)
    assert [f.path for f in findings] == ["b"] and findings[0].expected == "allowed"
    assert findings[0].found.startswith("blocked")


def test_run_batch_retries_only_failures_and_stops_after_attempts():
    calls: list[list] = []

    def runner(command: list[str]) -> str:
        probes = json.loads(command[-1])["probes"]
        calls.append(probes)
        # the first probe always answers, the second only on the second round
        answers = [{"ok": True, "status": 200, "body": "x"} if target == "a" or len(calls) > 1
                    else {"ok": False, "error": "ConnectionRefusedError: no", "type": "ConnectionRefusedError"}
                    for _, target in probes]
        return json.dumps(answers)

    results = run_batch(runner, [("http", "a"), ("http", "b")], timeout=1, attempts=3, pause=0)
    assert [r.ok for r in results] == [True, True]
    assert calls == [[["http", "a"], ["http", "b"]], [["http", "b"]]]


def test_run_batch_gives_up_with_the_cause_and_survives_garbage_output():
    results = run_batch(lambda command: "Traceback: boom", [("http", "a")], timeout=1, attempts=2, pause=0)
    assert not results[0].ok and "probe output" in results[0].error and results[0].failure is Failure.OTHER
    refused = run_batch(lambda c: json.dumps([{"ok": False, "error": "x", "type": "ConnectionRefusedError"}]),
                        [("http", "a")], timeout=1, attempts=1, pause=0)
    assert refused[0].failure is Failure.REFUSED


@pytest.mark.parametrize("error_type, message, failure", [
    ("ConnectionRefusedError", "", Failure.REFUSED),
    ("TimeoutError", "timed out", Failure.TIMEOUT),
    ("gaierror", "Name or service not known", Failure.NAME),
    ("OSError", "[Errno 113] No route to host", Failure.UNREACHABLE),
    ("ValueError", "odd", Failure.OTHER),
])
def test_classify(error_type, message, failure):
    assert classify(error_type, message) is failure


def test_differences_ignore_server_fields_and_report_field_paths():
    submitted = {"metadata": {"name": "web", "labels": {"app": "web"}},
                 "spec": {"ports": [{"port": 8080, "targetPort": "http"}], "type": "NodePort"}}
    live = {"metadata": {"name": "web", "labels": {"app": "web"}, "uid": "u", "resourceVersion": "7",
                         "annotations": {"x": "y"}},
            "spec": {"ports": [{"port": 8080, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"}],
                     "type": "ClusterIP", "clusterIP": "10.96.0.9"},
            "status": {"loadBalancer": {}}}
    assert list(differences(submitted, live)) == [("spec.type", "NodePort", "ClusterIP")]
    assert list(differences({"spec": {"ports": [{"port": "8080"}]}}, {"spec": {"ports": [{"port": 8080}]}})) == []
    assert list(differences({"spec": {"ports": [{"port": 1}]}}, {"spec": {"ports": [{"port": 1}, {"port": 2}]}})) == [
        ("spec.ports", "1 items", "2 items")]


def test_without_server_fields_keeps_what_an_author_writes():
    live = {"apiVersion": "v1", "kind": "Service", "status": {},
            "metadata": {"name": "web", "labels": {"a": "b"}, "uid": "u", "managedFields": [], "namespace": NS},
            "spec": {"type": "NodePort"}}
    assert without_server_fields(live) == {"apiVersion": "v1", "kind": "Service",
                                           "metadata": {"name": "web", "labels": {"a": "b"}},
                                           "spec": {"type": "NodePort"}}
