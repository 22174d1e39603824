"""Layer 3's pure parts on constructed cluster states: the probe plan, what answers
mean, the diagnosis of each kind of mismatch, and the probe batching with retries.
The same code runs against real packets in tests/cluster/test_live_grading.py."""

from __future__ import annotations

import json

import pytest

from course.model import WEB_NODE_PORT
from course.model import tier as tier_named
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


IPS = {"web-1": "10.244.0.10", "api-1": "10.244.0.11", "db-0": "10.244.0.12"}


def whoami(tier: str, pod_name: str, ip: str | None = None, status: int = 200, peer: str = "") -> ProbeResult:
    """A /whoami answer as the sample app gives it: tier, pod name and pod IP, self-reported."""
    return ProbeResult(True, status, json.dumps({"tier": tier, "pod": pod_name,
                                                 "ip": ip or IPS.get(pod_name, "10.244.0.99")}), peer=peer)


@pytest.mark.parametrize("result, observed, detail", [
    (whoami("api", "api-1"), Reach.ALLOWED, "pod api-1 answered"),
    (whoami("web", "web-1"), Reach.WRONG_TIER, "tier web answered"),
    (whoami("api", "api-7f-other"), Reach.OTHER_NAMESPACE, "not in namespace"),
    (ProbeResult(True, 200, "[]"), Reach.WRONG_TIER, "not a /whoami answer"),  # not a JSON object: no crash
    (ProbeResult(True, 200, "not json"), Reach.WRONG_TIER, "HTTP 200"),
    (whoami("api", "api-1", status=500), Reach.WRONG_TIER, "HTTP 500 from pod api-1"),
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
    routing.record(probes, [ProbeResult(True, body="+PONG", peer=IPS["db-0"]),  # a headless Service: the pod's IP
                            ProbeResult(True, body="HTTP/1.1 400", peer=IPS["db-0"])], live)
    assert [p.route.observed for p in probes] == [Reach.ALLOWED, Reach.WRONG_TIER]


# -- answers are untrusted input ---------------------------------------------------

def http_probe(target: str = "http://api:8080/whoami", tier: str = "api", source: str = routing.IN_CLUSTER,
               expected: Reach = Reach.ALLOWED) -> routing.Probe:
    return routing.Probe(routing.Route(source, target, tier, expected), "http", target)


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("body", [
    "[]", "null", "true", "3", '"api"', '{"pod": ["x"]}', '{"pod": {"name": "api-1"}, "ip": 7}',
    '{"pod": "api-1", "ip": ["10.244.0.11"]}', '{"pod": "api-1", "ip": "not an ip"}', DEEP, '{"a":' * 3000,
    '{"pod": "' + "x" * 5000 + '", "ip": "10.244.0.11"}', "\x00\x1b[31m\u202e", "", "{" + '"k": 1, ' * 2000,
])
def test_record_survives_any_body_and_never_allows_it(body):
    live = state()
    probe = http_probe()
    routing.record([probe], [ProbeResult(True, 200, body)], live)
    assert probe.route.observed is Reach.WRONG_TIER and "not a /whoami answer" in probe.route.detail
    assert len(probe.route.detail) < 200 and "\x1b" not in probe.route.detail  # safe and short for a report line
    assert "selector" in routing.diagnose(probe.route, live)


@pytest.mark.parametrize("body", ['{"pod": ["x"]}', "null", '{"tier": "api"}', '{"pod": "api-1", "ip": 7}'])
def test_garbage_from_the_tiers_own_pod_at_its_own_ip_is_not_a_whoami_answer(body):
    """The connection reached api-1's IP, so the pod is known; its answer still has to be one."""
    live = state()
    probe = http_probe(f"http://{IPS['api-1']}:8080/whoami (pod api-1)")
    routing.record([probe], [ProbeResult(True, 200, body, peer=IPS["api-1"])], live)
    assert probe.route.observed is Reach.WRONG_TIER and "from pod api-1, not a /whoami answer" in probe.route.detail


def test_record_survives_deep_json_in_a_thread_with_a_small_stack():
    import threading

    outcome: list[object] = []
    threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=lambda: outcome.append(routing._whoami(DEEP)))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(0)
    assert outcome == [None]


@pytest.mark.parametrize("failure", [Failure.SLOW, Failure.TOO_LARGE, Failure.MALFORMED])
def test_an_answer_too_slow_too_large_or_garbled_is_a_bad_answer_never_blocked(failure):
    live = state()
    inside, outside = http_probe(), http_probe("http://localhost:31000/whoami", source=routing.HOST,
                                               expected=Reach.BLOCKED)
    result = ProbeResult(False, error=f"{failure.name}: 3 bytes in 2.0 s", failure=failure)
    routing.record([inside, outside], [result, result], live)
    assert inside.route.observed is outside.route.observed is Reach.BAD_ANSWER
    assert not outside.route.matches  # something accepted the connection: api is reachable from outside
    assert inside.route.failure is failure and "bad answer" in routing.diagnose(inside.route, live)


def test_the_tier_is_the_answering_pods_label_not_what_it_says():
    live = state()
    liar = http_probe()
    routing.record([liar], [whoami("api", "web-1")], live)  # web-1 says it is the api tier
    assert liar.route.observed is Reach.WRONG_TIER and "tier web answered (pod web-1)" in liar.route.detail
    direct = http_probe(f"http://{IPS['web-1']}:8080/whoami", "web")
    routing.record([direct], [whoami("db", "someone-else", "10.9.9.9", peer=IPS["web-1"])], live)
    assert direct.route.observed is Reach.ALLOWED and direct.route.answered_by == "web-1"  # the address decides


def test_a_claimed_identity_needs_name_and_ip_of_one_pod_of_the_namespace():
    live = state()
    forged = http_probe()
    routing.record([forged], [whoami("api", "api-1", IPS["web-1"])], live)  # api-1's name, web-1's IP
    assert forged.route.observed is Reach.WRONG_TIER and "which is pod web-1's IP" in forged.route.detail
    assert "identity does not hold" in routing.diagnose(forged.route, live)
    foreign_ip_own_name = http_probe()
    routing.record([foreign_ip_own_name], [whoami("api", "api-1", "10.244.0.200")], live)
    assert foreign_ip_own_name.route.observed is Reach.OTHER_NAMESPACE


def test_an_answer_claiming_a_real_pods_identity_counts_only_if_the_service_sends_only_to_the_tier():
    """A pod labelled app: impostor, selected by the api Service, answers with api-1's
    name and IP: only the Service's endpoints can tell."""
    live = state()
    live.pods.append(Pod("impostor", {"app": "impostor"}, "10.244.0.40", True, "Running", None,
                         ("firstapp/api:1.0",), (False,), 0))
    live.endpoints = {**live.endpoints, "api": [Endpoint("10.244.0.40", True, "impostor")]}
    probe = http_probe()
    routing.record([probe], [whoami("api", "api-1")], live)
    assert probe.route.observed is Reach.WRONG_TIER and "also sends traffic to 10.244.0.40" in probe.route.detail
    assert routing.diagnose(probe.route, live).startswith("selector: Service api also sends traffic")
    direct = http_probe(f"http://{IPS['api-1']}:8080/whoami")
    routing.record([direct], [whoami("api", "api-1", peer=IPS["api-1"])], live)
    assert direct.route.observed is Reach.ALLOWED  # api-1 itself, on its own IP, is no Service's business


def test_a_bare_pod_named_like_another_namespaces_pod_does_not_turn_it_into_ours():
    """Node port 30080 is held by another namespace, whose web pod web-abc answers the
    host; the learner creates a bare pod named web-abc. Its IP is not the answer's."""
    live = state()
    live.pods.append(Pod("web-abc", {"app": "web"}, "10.244.0.30", True, "Running", None, ("firstapp/web:1.0",),
                         (False,), 0))
    host = http_probe(f"http://localhost:{WEB_NODE_PORT}/whoami", "web", routing.HOST)
    routing.record([host], [whoami("web", "web-abc", "10.244.0.77")], live)
    assert host.route.observed is Reach.OTHER_NAMESPACE and not host.route.matches
    assert "belongs to another namespace" in routing.diagnose(host.route, live)


def test_an_answer_from_another_namespace_is_only_that_when_no_pod_here_has_its_ip():
    live = state()
    probe = http_probe()
    routing.record([probe], [whoami("api", "api-elsewhere", IPS["api-1"])], live)
    assert probe.route.observed is Reach.WRONG_TIER  # the IP is api-1's: a forged name, not another namespace
    inside = http_probe()
    routing.record([inside], [whoami("api", "api-elsewhere", "10.244.0.201")], live)
    assert inside.route.observed is Reach.OTHER_NAMESPACE
    assert "another namespace's pod answered" in routing.diagnose(inside.route, live)


RUN_ID = "a" * 40


def redis_probe(target: str, source: str = routing.IN_CLUSTER, expected: Reach = Reach.ALLOWED) -> routing.Probe:
    return routing.Probe(routing.Route(source, target, "db", expected), "redis", target)


def pong(peer: str = "", server_id: str = RUN_ID) -> ProbeResult:
    return ProbeResult(True, body="+PONG", peer=peer, server_id=server_id)


def db_routes(live: LiveState, via_service: ProbeResult, direct: ProbeResult | None = None) -> routing.Route:
    """db's ClusterIP route, recorded with (or without) the direct probe of db-0."""
    probes = [redis_probe("10.96.0.2:6379")] + ([redis_probe(f"{IPS['db-0']}:6379")] if direct else [])
    routing.record(probes, [via_service] + ([direct] if direct else []), live)
    return probes[0].route


def test_a_pong_through_a_service_counts_only_with_the_run_id_of_a_db_pod():
    direct = pong(IPS["db-0"])
    assert db_routes(state(), pong("10.96.0.2"), direct).observed is Reach.ALLOWED
    unproven = db_routes(state(), pong("10.96.0.2", server_id=""), direct)
    assert unproven.observed is Reach.WRONG_TIER and "did not say which Redis" in routing.diagnose(unproven, state())
    stranger = db_routes(state(), pong("10.96.0.2", server_id="b" * 40), direct)
    assert stranger.observed is Reach.WRONG_TIER and "none of the db pods'" in stranger.cause


def test_a_pong_with_no_db_pod_in_the_namespace_fails():
    live = state(pods=[pod("web-1", "web", IPS["web-1"]), pod("api-1", "api", IPS["api-1"])])
    route = db_routes(live, pong("10.96.0.2"))
    assert route.observed is Reach.WRONG_TIER and "no ready db pod" in routing.diagnose(route, live)


def test_a_pong_from_a_pod_that_is_not_a_db_pod_fails():
    live = state()
    route = redis_probe("db:6379")
    routing.record([route], [pong(IPS["api-1"])], live)  # a headless db Service selecting the api pod
    assert route.route.observed is Reach.WRONG_TIER and "tier api" in route.route.detail


def test_a_db_service_must_send_traffic_only_to_db_pods():
    """A hand-made EndpointSlice adds a fake Redis to the db Service: the answer that
    came from the real db pod proves nothing about the others."""
    live = state()
    live.endpoints = {**live.endpoints, "db": [Endpoint(IPS["db-0"], True, "db-0"),
                                               Endpoint("10.244.0.66", True, None, managed=False)]}
    route = db_routes(live, pong("10.96.0.2"), pong(IPS["db-0"]))
    assert route.observed is Reach.WRONG_TIER and "also sends traffic to 10.244.0.66" in route.detail


def test_a_host_pong_is_checked_against_the_pods_run_ids():
    live = state(objects={**state().objects, "Service/db": service("db", "NodePort", 31379, port=6379)})
    outside = redis_probe("localhost:31379", routing.HOST, Reach.BLOCKED)
    direct = redis_probe(f"{IPS['db-0']}:6379")
    routing.record([direct, outside], [pong(IPS["db-0"]), pong("127.0.0.1")], live)
    assert direct.route.observed is Reach.ALLOWED
    assert outside.route.observed is Reach.ALLOWED and not outside.route.matches  # db really is exposed


def test_plan_probes_every_ready_db_pod_on_its_ip():
    live = state()
    live.pods += [pod("db-1", "db", "10.244.0.13"), pod("db-2", "db", "10.244.0.14", ready=False),
                  pod("api-2", "api", "10.244.0.15")]
    targets = [p.address for p in routing.plan(live) if p.route.source == routing.IN_CLUSTER]
    assert {"10.244.0.12:6379", "10.244.0.13:6379"} <= set(targets) and "10.244.0.14:6379" not in targets
    assert sum(t.startswith("http://10.244.0.1") for t in targets) == 2  # one web pod, one api pod


def test_endpoints_check_counts_only_slices_of_the_endpointslice_controller():
    from grader.state_rules import endpoints_match_ready_pods
    from grader.submission import Submission

    live = state()
    selectorless = service("api")
    live.objects = {**live.objects, "Service/api": selectorless}  # no spec.selector
    live.endpoints = {**live.endpoints, "api": [Endpoint(IPS["api-1"], True, "api-1", managed=False)]}
    findings = endpoints_match_ready_pods(Submission([]), live, tier_named("api"))
    assert findings and "no selector" in findings[0].problem and "hand-made" in findings[0].problem
    live.objects["Service/api"] = {**selectorless, "spec": {**selectorless["spec"], "selector": {"app": "api"}}}
    assert "lists no pod" in endpoints_match_ready_pods(Submission([]), live, tier_named("api"))[0].problem
    live.endpoints["api"].append(Endpoint(IPS["api-1"], True, "api-1"))
    assert endpoints_match_ready_pods(Submission([]), live, tier_named("api")) == []


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
