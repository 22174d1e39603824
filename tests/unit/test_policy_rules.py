"""Checkpoint 4's NetworkPolicy logic: the evaluator against Kubernetes' semantics
(table-driven), the reference answer (the expected matrix, no finding), and each
hidden mistake failing its rule with the right cause."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from course.model import TIERS
from grader import policy_rules as rules
from grader import schema
from grader.loading import load_path, load_text
from grader.policy_rules import INGRESS_CONTROLLER_IP, KUBE_DNS, ContainerPort, Peer, Policy, allowed
from grader.submission import Submission
from tests.checkpoint4 import LOADER, REFERENCE, reference, submission_of
from tests.conftest import REPO

NS = "lab"

# ---- the evaluator ----------------------------------------------------------------------

HTTP = (ContainerPort("http", 8080, "TCP"),)
WEB = Peer.of_pod("web", NS, {"app": "web"}, HTTP)
API = Peer.of_pod("api", NS, {"app": "api"}, HTTP)
DB = Peer.of_pod("db", NS, {"app": "db"}, (ContainerPort("redis", 6379, "TCP"),))
WEB_ELSEWHERE = Peer.of_pod("web of team-b", "team-b", {"app": "web"}, HTTP, namespace_labels={"team": "b"})
OTHER_IN_TEAM_A = Peer.of_pod("other of team-a", "team-a", {"app": "other"}, namespace_labels={"team": "a"})
WEB_IN_TEAM_A = Peer.of_pod("web of team-a", "team-a", {"app": "web"}, HTTP, namespace_labels={"team": "a"})
OUTSIDE = Peer.address("a client", "198.51.100.7")
INSIDE_EXCEPT = Peer.address("an excluded client", "198.51.100.200")

RULES = {**rules.RULES, "wide-open": rules.policy_wide_open}  # the last feeds a hidden check


def policy(name: str = "p", selector: dict | None = None, **spec) -> Policy:
    return Policy.from_body({"metadata": {"name": name},
                             "spec": {"podSelector": {} if selector is None else selector, **spec}}, NS)


def on(app: str) -> dict:
    return {"matchLabels": {"app": app}}


DENY_ALL = policy("default-deny", policyTypes=["Ingress", "Egress"])
DENY_INGRESS = policy("default-deny")  # no policyTypes, no rules: isolates for ingress only


def api_from(*peers, ports=None, name="api-in") -> Policy:
    rule: dict = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return policy(name, on("api"), ingress=[rule])


# name: (policies, source, destination, port, protocol, allowed, words in the reason)
CASES: dict[str, tuple[list[Policy], Peer, Peer, int, str, bool, list[str]]] = {
    "no policy: nothing is isolated": ([], WEB, API, 8080, "TCP", True, ["no policy isolates api for ingress"]),
    "default deny ingress blocks": ([DENY_INGRESS], WEB, API, 8080, "TCP", False,
                                    ["policy default-deny isolates api for ingress",
                                     "no ingress rule of any policy selecting api allows from web on 8080/TCP"]),
    "policyTypes default to Ingress only": ([DENY_INGRESS], API, OUTSIDE, 443, "TCP", True,
                                            ["no policy isolates api for egress"]),
    "egress rules imply Egress in the default policyTypes": (
        [policy("eg", on("web"), egress=[{"to": [{"podSelector": on("db")}]}])], WEB, API, 8080, "TCP", False,
        ["policy eg isolates web for egress"]),
    "egress: [] is no egress rule, so no Egress type": ([policy("eg", on("web"), egress=[])], WEB, API, 8080, "TCP",
                                                        True, ["no policy isolates web for egress"]),
    "ingress rules of an Egress-only policy are ignored": (
        [policy("eg", on("api"), policyTypes=["Egress"], ingress=[{"from": [{"podSelector": on("db")}]}])],
        WEB, API, 8080, "TCP", True, ["no policy isolates api for ingress"]),
    "ingress: [{}] allows everything": ([DENY_ALL, policy("open", on("api"), ingress=[{}])], OUTSIDE, API, 8080, "TCP",
                                        True, ["rule spec.ingress[0] of policy open"]),
    "from: [] allows every source": ([DENY_INGRESS, policy("open", on("api"), ingress=[{"from": [], "ports": []}])],
                                     OUTSIDE, API, 8080, "TCP", True, ["allowed by rule spec.ingress[0] of policy open"]),
    "policies add up: an allow beside a deny": ([DENY_INGRESS, api_from({"podSelector": on("web")})], WEB, API, 8080,
                                                "TCP", True, ["api-in"]),
    "podSelector alone: this namespace only": ([api_from({"podSelector": on("web")})], WEB_ELSEWHERE, API, 8080, "TCP",
                                               False, ["from web of team-b"]),
    "namespaceSelector AND podSelector in one peer: both must hold": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": on("web")})],
        WEB_IN_TEAM_A, API, 8080, "TCP", True, []),
    "one peer (AND): another pod of that namespace is not let in": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": on("web")})],
        OTHER_IN_TEAM_A, API, 8080, "TCP", False, []),
    "one peer (AND): web of another namespace is not let in": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": on("web")})],
        WEB_ELSEWHERE, API, 8080, "TCP", False, []),
    "one peer (AND): web of the policy's own namespace is not let in": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": on("web")})],
        WEB, API, 8080, "TCP", False, []),
    "two peers (OR): every pod of that namespace is let in": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}}, {"podSelector": on("web")})],
        OTHER_IN_TEAM_A, API, 8080, "TCP", True, []),
    "two peers (OR): web of this namespace is let in": (
        [api_from({"namespaceSelector": {"matchLabels": {"team": "a"}}}, {"podSelector": on("web")})],
        WEB, API, 8080, "TCP", True, []),
    "namespaceSelector {} is every namespace": ([api_from({"namespaceSelector": {}})], WEB_ELSEWHERE, API, 8080, "TCP",
                                                True, []),
    "namespace selected by its name label": (
        [api_from({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-b"}}})],
        WEB_ELSEWHERE, API, 8080, "TCP", True, []),
    "a selector never matches an address": ([api_from({"namespaceSelector": {}})], OUTSIDE, API, 8080, "TCP", False, []),
    "ipBlock lets its addresses in": ([api_from({"ipBlock": {"cidr": "198.51.100.0/24"}})], OUTSIDE, API, 8080, "TCP",
                                      True, []),
    "ipBlock except keeps its addresses out": (
        [api_from({"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.128/25"]}})],
        INSIDE_EXCEPT, API, 8080, "TCP", False, []),
    "ipBlock except keeps the rest of the block in": (
        [api_from({"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.128/25"]}})],
        OUTSIDE, API, 8080, "TCP", True, []),
    "ipBlock outside the block": ([api_from({"ipBlock": {"cidr": "10.0.0.0/8"}})], OUTSIDE, API, 8080, "TCP", False, []),
    "ipBlock 0.0.0.0/0 does not count on matching pods": ([api_from({"ipBlock": {"cidr": "0.0.0.0/0"}})], WEB, API, 8080,
                                                         "TCP", False, []),
    "ipBlock beside a selector in one peer is refused, matches nothing": (
        [api_from({"ipBlock": {"cidr": "0.0.0.0/0"}, "podSelector": on("web")})], WEB, API, 8080, "TCP", False, []),
    "an empty peer is refused, matches nothing": ([api_from({})], WEB, API, 8080, "TCP", False, []),
    "a numbered port": ([api_from({"podSelector": on("web")}, ports=[{"port": 8080}])], WEB, API, 8080, "TCP", True, []),
    "another numbered port": ([api_from({"podSelector": on("web")}, ports=[{"port": 8081}])], WEB, API, 8080, "TCP",
                              False, []),
    "protocol defaults to TCP": ([api_from({"podSelector": on("web")}, ports=[{"port": 8080}])], WEB, API, 8080, "UDP",
                                 False, ["on 8080/UDP"]),
    "a port with a protocol and no number: every port of it": (
        [api_from({"podSelector": on("web")}, ports=[{"protocol": "UDP"}])], WEB, API, 5353, "UDP", True, []),
    "a named port resolves on the destination": ([api_from({"podSelector": on("web")}, ports=[{"port": "http"}])],
                                                 WEB, API, 8080, "TCP", True, []),
    "a named port of another number": ([api_from({"podSelector": on("web")}, ports=[{"port": "http"}])],
                                       WEB, API, 9090, "TCP", False, []),
    "a named port the destination lacks": ([api_from({"podSelector": on("web")}, ports=[{"port": "htpp"}])],
                                           WEB, API, 8080, "TCP", False, []),
    "a named port of another protocol": ([api_from({"podSelector": on("web")}, ports=[{"port": "http", "protocol": "UDP"}])],
                                         WEB, API, 8080, "UDP", False, []),
    "endPort: the range's start": ([api_from({"podSelector": on("web")}, ports=[{"port": 8080, "endPort": 8090}])],
                                   WEB, API, 8080, "TCP", True, []),
    "endPort: the range's end, inclusive": ([api_from({"podSelector": on("web")}, ports=[{"port": 8000, "endPort": 8080}])],
                                            WEB, API, 8080, "TCP", True, []),
    "endPort: past the range": ([api_from({"podSelector": on("web")}, ports=[{"port": 8000, "endPort": 8079}])],
                                WEB, API, 8080, "TCP", False, []),
    "endPort below port: an empty range": ([api_from({"podSelector": on("web")}, ports=[{"port": 8090, "endPort": 8000}])],
                                           WEB, API, 8080, "TCP", False, []),
    "matchExpressions In": ([policy("x", {"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "db"]}]},
                                    policyTypes=["Ingress"])], WEB, API, 8080, "TCP", False, ["policy x isolates api"]),
    "matchExpressions NotIn matches a pod without the key": (
        [policy("x", {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]})],
        WEB, API, 8080, "TCP", False, ["policy x isolates api"]),
    "matchExpressions Exists": ([policy("x", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]})],
                                WEB, API, 8080, "TCP", True, ["no policy isolates api"]),
    "matchExpressions DoesNotExist": ([policy("x", {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})],
                                      WEB, API, 8080, "TCP", False, []),
    "matchLabels and matchExpressions: both": (
        [policy("x", {"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]})],
        WEB, API, 8080, "TCP", True, ["no policy isolates api"]),
    "a policy of another namespace selects nothing here": (
        [Policy.from_body({"metadata": {"name": "x", "namespace": "team-b"}, "spec": {"podSelector": {}}}, NS)],
        WEB, API, 8080, "TCP", True, []),
    "the source's egress must allow too": ([DENY_ALL, api_from({"podSelector": on("web")})], WEB, API, 8080, "TCP", False,
                                           ["policy default-deny isolates web for egress", "to api on 8080/TCP"]),
    "egress and ingress both allowing": (
        [DENY_ALL, api_from({"podSelector": on("web")}),
         policy("web-out", on("web"), policyTypes=["Egress"], egress=[{"to": [{"podSelector": on("api")}]}])],
        WEB, API, 8080, "TCP", True, ["web's egress is allowed by rule spec.egress[0] of policy web-out",
                                      "api's ingress is allowed by rule spec.ingress[0] of policy api-in"]),
    "egress to an address by ipBlock": (
        [DENY_ALL, policy("out", on("web"), egress=[{"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}])],
        WEB, OUTSIDE, 443, "TCP", True, ["a client is not a pod"]),
    "egress named port to an address matches nothing": (
        [DENY_ALL, policy("out", on("web"), egress=[{"ports": [{"port": "https"}]}])], WEB, OUTSIDE, 443, "TCP", False, []),
    "a pod's own node is always allowed": ([DENY_ALL], Peer.node("its node"), API, 8080, "TCP", True,
                                           ["own node", "always allowed"]),
    "a pod reaches itself": ([DENY_ALL], Peer.of_pod("api", NS, {"app": "api"}, HTTP, pod="api-1"),
                             Peer.of_pod("api", NS, {"app": "api"}, HTTP, pod="api-1"), 8080, "TCP", True, ["itself"]),
    "another pod of the same tier is not itself": ([DENY_ALL], Peer.of_pod("api", NS, {"app": "api"}, HTTP, pod="api-1"),
                                                   Peer.of_pod("api", NS, {"app": "api"}, HTTP, pod="api-2"), 8080, "TCP",
                                                   False, []),
    "DNS to kube-system by AND": (
        [DENY_ALL, policy("dns", {}, policyTypes=["Egress"], egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}]}])], WEB, KUBE_DNS, 53, "UDP", True, []),
    "DNS by a podSelector alone looks in this namespace": (
        [DENY_ALL, policy("dns", {}, policyTypes=["Egress"], egress=[{
            "to": [{"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"port": 53, "protocol": "UDP"}]}])],
        WEB, KUBE_DNS, 53, "UDP", False, ["to kube-dns on 53/UDP"]),
    "DNS by named port": (
        [DENY_ALL, policy("dns", {}, policyTypes=["Egress"], egress=[{"ports": [{"port": "dns", "protocol": "UDP"}]}])],
        WEB, KUBE_DNS, 53, "UDP", True, []),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_evaluator_follows_kubernetes_semantics(name):
    policies, source, destination, port, protocol, expected, words = CASES[name]
    verdict = allowed(policies, source, destination, port, protocol)
    assert verdict.allowed is expected, str(verdict)
    for word in words:
        assert word in verdict.reason, f"{word!r} not in {verdict.reason!r}"


def test_a_blocked_verdict_says_which_policy_isolates_and_that_no_rule_allows():
    verdict = allowed([DENY_ALL, policy("web-out", on("web"), egress=[{"to": [{"podSelector": on("api")}]}])], WEB, API, 8080)
    assert not verdict.allowed
    assert verdict.reason == ("policy default-deny isolates api for ingress and no ingress rule of any policy "
                              "selecting api allows from web on 8080/TCP")
    assert verdict.egress.allowed and [str(r) for r in verdict.egress.allowing] == ["rule spec.egress[0] of policy web-out"]
    assert str(verdict).startswith("web -> api on 8080/TCP: blocked (")


def test_malformed_policies_match_nothing_instead_of_raising():
    odd = [policy("a", "app=api"), policy("b", on("api"), ingress="all"), policy("c", on("api"), ingress=[5, {"from": 5}]),
           policy("d", {"matchExpressions": [{"key": "app", "operator": "Near"}]}),
           policy("e", on("api"), ingress=[{"from": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]),
           policy("f", on("api"), ingress=[{"ports": [{"port": True}, {"port": 8080.5}]}])]
    for each in odd:
        assert isinstance(allowed([each], WEB, API, 8080).allowed, bool)


# ---- the course's intended matrix and the reference -----------------------------------------


def test_the_expected_matrix_is_the_course_design():
    matrix = rules.expected_matrix()
    assert set(matrix) == {(s, d) for s in ("host", "web", "api", "db", "probe") for d in ("web", "api", "db")}
    assert {cell for cell, open_ in matrix.items() if open_} == {("host", "web"), ("web", "api"), ("api", "db")}


def test_the_probe_labels_are_the_probe_pods():
    from course.probe import PROBE_LABEL

    assert dict(rules.PROBE_LABELS) == {PROBE_LABEL: "true"}




def obj(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def mutate(change: Callable[[list[dict]], object]) -> list[dict]:
    docs = reference()
    change(docs)
    return docs


def test_the_reference_loads_and_is_valid_kubernetes():
    manifests = load_path(REFERENCE)
    assert schema.validate(manifests) == []
    kinds = [m.kind for m in manifests]
    assert kinds.count("NetworkPolicy") >= 5 and "Ingress" in kinds
    assert [m.ref for m in manifests if m.kind != "NetworkPolicy"] == [
        "Deployment/web", "Deployment/api", "StatefulSet/db", "Service/web", "Service/api", "Service/db", "Ingress/web"]


def test_the_reference_keeps_checkpoint_3s_workloads_and_explains_each_policy():
    checkpoint_3 = {(d["kind"], d["metadata"]["name"]): d
                    for d in yaml.load_all((REPO / "k8s/reference/checkpoint-3.yaml").read_text(), Loader=LOADER) if d}
    for doc in reference():
        if doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc == checkpoint_3[(doc["kind"], doc["metadata"]["name"])]
    text = REFERENCE.read_text()
    for document in text.split("\n---\n")[1:]:
        if "kind: NetworkPolicy" in document:
            assert document.lstrip().startswith("#"), f"a policy without its comment:\n{document}"


def test_the_reference_gives_the_expected_matrix():
    computed = rules.matrix(submission_of(reference()))
    assert {cell: verdict.allowed for cell, verdict in computed.items()} == rules.expected_matrix()


@pytest.mark.parametrize("rule", list(rules.RULES))
def test_the_reference_passes_every_policy_rule(rule):
    assert rules.RULES[rule](submission_of(reference()), rules.NAMESPACE) == []
    assert rules.RULES[rule](Submission(load_path(REFERENCE), services_only=False), rules.NAMESPACE) == []


# ---- each mistake fails the right rule with the right cause ----------------------------------


def policy_doc(docs: list[dict], name: str) -> dict:
    return obj(docs, "NetworkPolicy", name)


def set_ingress(name: str, ingress: list) -> Callable[[list[dict]], object]:
    return lambda d: policy_doc(d, name)["spec"].update(ingress=ingress)


def first_port(docs: list[dict], name: str, direction: str) -> dict:
    return policy_doc(docs, name)["spec"][direction][0]["ports"][0]


def remove(name: str) -> Callable[[list[dict]], object]:
    return lambda d: d.remove(policy_doc(d, name))


API_ONLY = [{"podSelector": {"matchLabels": {"app": "api"}}}]

MISTAKES: dict[str, tuple[Callable[[list[dict]], object], str, list[str]]] = {
    # name: (change, rule id, words one finding of that rule must contain)
    "a policy that selects nothing (wrong label)": (
        lambda d: policy_doc(d, "db-from-api")["spec"].update(podSelector={"matchLabels": {"app": "database"}}),
        "policy-selectors", ["NetworkPolicy/db-from-api", "spec.podSelector", "selects nothing", "database"]),
    "...and so api cannot reach db": (
        lambda d: policy_doc(d, "db-from-api")["spec"].update(podSelector={"matchLabels": {"app": "database"}}),
        "connectivity", ["traffic api -> db", "blocked but should be allowed",
                         "policy default-deny isolates db for ingress", "from api on 6379/TCP"]),
    "a peer that selects nothing (wrong label)": (
        lambda d: policy_doc(d, "api-from-web")["spec"]["ingress"][0].update(
            **{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]}),
        "policy-selectors", ["NetworkPolicy/api-from-web", "spec.ingress[0].from[0].podSelector", "selects nothing",
                             "frontend"]),
    "a label typo on the egress side": (
        lambda d: policy_doc(d, "web-to-api")["spec"]["egress"][0]["to"][0]["podSelector"].update(matchLabels={"app": "apl"}),
        "connectivity", ["traffic web -> api", "isolate web for egress", "to api on 8080/TCP"]),
    "forgetting DNS egress": (remove("dns-for-web-and-api"), "dns-egress",
                              ["forgets DNS egress: api cannot resolve db", "over UDP", "NetworkPolicy/"]),
    "forgetting DNS egress, for web too": (remove("dns-for-web-and-api"), "dns-egress",
                                           ["forgets DNS egress: web cannot resolve api"]),
    "DNS over UDP only": (
        lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["egress"][0].update(ports=[{"port": 53, "protocol": "UDP"}]),
        "dns-egress", ["api cannot resolve db over TCP", "53/TCP blocked"]),
    "DNS: the kube-dns podSelector without its namespaceSelector looks in this namespace": (
        lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["egress"][0]["to"][0].pop("namespaceSelector"),
        "dns-egress", ["forgets DNS egress", "to kube-dns on 53/UDP"]),
    "ingress: [{}] lets everyone reach db": (set_ingress("db-from-api", [{}]), "wide-open",
                                            ["NetworkPolicy/db-from-api", "spec.ingress[0]", "allows every source to db",
                                             "from the api pods only"]),
    "...which the matrix shows too": (set_ingress("db-from-api", [{}]), "connectivity",
                                      ["NetworkPolicy/db-from-api", "spec.ingress[0]",
                                       "lets the ingress controller -> db on 6379/TCP through",
                                       "db's ingress is allowed by rule spec.ingress[0] of policy db-from-api"]),
    "an empty from lets everyone reach db": (set_ingress("db-from-api", [{"from": [], "ports": [{"port": "redis"}]}]),
                                             "wide-open", ["allows every source to db", "without `from`"]),
    "from: [{}] is refused by the API server": (set_ingress("db-from-api", [{"from": [{}]}]), "policy-values",
                                                ["NetworkPolicy/db-from-api", "spec.ingress[0].from[0]", "empty peer",
                                                 "must specify a peer"]),
    "OR where AND was meant: api open to every namespace": (
        set_ingress("api-from-web", [{"from": [{"namespaceSelector": {}}, {"podSelector": {"matchLabels": {"app": "web"}}}],
                                      "ports": [{"port": "http"}]}]),
        "wide-open", ["NetworkPolicy/api-from-web", "spec.ingress[0].from[0]", "every pod of every namespace"]),
    "podSelector: {} lets every pod of the namespace reach db": (
        set_ingress("db-from-api", [{"from": [{"podSelector": {}}]}]), "wide-open",
        ["every pod of this namespace", "db"]),
    "ipBlock 0.0.0.0/0 on api": (set_ingress("api-from-web", [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]),
                                 "wide-open", ["every address", "api"]),
    "a named port that does not exist": (
        lambda d: first_port(d, "api-to-db", "egress").update(port="redis-port"),
        "policy-ports", ["NetworkPolicy/api-to-db", "spec.egress[0].ports[0]", "no container port of db is named "
                         "'redis-port'", "redis=6379/TCP"]),
    "...and so api cannot reach db (named port)": (
        lambda d: first_port(d, "api-to-db", "egress").update(port="redis-port"),
        "connectivity", ["traffic api -> db", "isolate api for egress"]),
    "a numbered port nothing listens on": (
        lambda d: first_port(d, "db-from-api", "ingress").update(port=6380),
        "policy-ports", ["spec.ingress[0].ports[0]", "db listens on no port 6380/TCP"]),
    "a named port with the wrong protocol": (
        lambda d: first_port(d, "api-from-web", "ingress").update(protocol="UDP"),
        "policy-ports", ["'http' of api uses protocol TCP", "http/UDP"]),
    "an endPort range that misses the port": (
        lambda d: first_port(d, "db-from-api", "ingress").update(port=6380, endPort=6390),
        "policy-ports", ["db listens on no port 6380-6390/TCP"]),
    "an endPort range that misses the port, in the matrix": (
        lambda d: first_port(d, "db-from-api", "ingress").update(port=6380, endPort=6390),
        "connectivity", ["traffic api -> db", "isolate db for ingress"]),
    "endPort with a named port": (lambda d: first_port(d, "db-from-api", "ingress").update(endPort=6390),
                                  "policy-values", ["spec.ingress[0].ports[0].endPort", "named port"]),
    "endPort below port": (lambda d: first_port(d, "db-from-api", "ingress").update(port=6379, endPort=6000),
                           "policy-values", ["spec.ingress[0].ports[0].endPort", "below port"]),
    "endPort without port": (lambda d: [first_port(d, "db-from-api", "ingress").pop("port"),
                                        first_port(d, "db-from-api", "ingress").update(endPort=6390)],
                             "policy-values", ["endPort without port"]),
    "ipBlock except that keeps the ingress controller out": (
        set_ingress("web-from-outside", [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["203.0.113.0/24"]}}],
                                          "ports": [{"port": "http"}]}]),
        "connectivity", ["traffic host -> web", "blocked but should be allowed", "from the ingress controller"]),
    "ipBlock except outside its cidr": (
        set_ingress("web-from-outside", [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]),
        "policy-values", ["spec.ingress[0].from[0].ipBlock.except[0]", "strict subset"]),
    "ipBlock with a selector in one peer": (
        set_ingress("web-from-outside", [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}, "podSelector": {}}]}]),
        "policy-values", ["may not specify both ipBlock and another peer"]),
    "not a CIDR": (set_ingress("web-from-outside", [{"from": [{"ipBlock": {"cidr": "everywhere"}}]}]),
                   "policy-values", ["ipBlock.cidr", "not a CIDR"]),
    "a quoted port number": (lambda d: first_port(d, "db-from-api", "ingress").update(port="6379"),
                             "policy-values", ['found "6379"', "without quotes"]),
    "a policy type in lower case": (lambda d: policy_doc(d, "default-deny")["spec"].update(policyTypes=["ingress", "Egress"]),
                                    "policy-values", ["spec.policyTypes[0]", "not a policy type"]),
    "an unknown selector operator": (
        lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["podSelector"]["matchExpressions"][0].update(operator="in"),
        "policy-values", ["matchExpressions[0].operator", "not a selector operator"]),
    "default deny for ingress only": (
        lambda d: policy_doc(d, "default-deny")["spec"].update(policyTypes=["Ingress"]),
        "default-deny", ["NetworkPolicy/default-deny", "spec.policyTypes", "no policy isolates db and the probe pod "
                         "for egress"]),
    "no default deny: web open to any pod": (remove("default-deny"), "connectivity",
                                             ["NetworkPolicy/web-from-outside", "lets the probe pod -> web on 8080/TCP "
                                              "through", "no policy isolates the probe pod for egress"]),
    "no default deny at all": (remove("default-deny"), "default-deny",
                               ["NetworkPolicy (default deny)", "no policy isolates the probe pod for ingress"]),
    "api from web forgotten": (remove("api-from-web"), "connectivity",
                               ["traffic web -> api", "policy default-deny isolates api for ingress"]),
    "no readiness probe on api": (
        lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe"),
        "api-readiness", ["Deployment/api", "spec.template.spec.containers[0].readinessProbe", "no readiness probe"]),
    "readiness on /healthz": (
        lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        .update(path="/healthz"), "api-readiness", ["httpGet.path", "expected /readyz, found /healthz"]),
    "readiness on a port api lacks": (
        lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        .update(port="web"), "api-readiness", ["httpGet.port", "does not declare"]),
    "no policy at all": (lambda d: [d.remove(x) for x in [x for x in d if x["kind"] == "NetworkPolicy"]],
                         "connectivity", ["missing", "no NetworkPolicy"]),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_fails_its_rule_with_the_cause(name):
    change, rule, words = MISTAKES[name]
    findings = RULES[rule](submission_of(mutate(change)), rules.NAMESPACE)
    assert findings, f"{rule} found nothing"
    texts = [str(f) for f in findings]
    assert any(all(word in text for word in words) for text in texts), "\n".join(texts)


def test_a_finding_names_the_line_of_the_field():
    text = REFERENCE.read_text().replace("matchLabels: {app: db}\n  policyTypes: [Ingress]",
                                         "matchLabels: {app: database}\n  policyTypes: [Ingress]")
    assert "app: database" in text
    findings = rules.policy_selectors(Submission(load_text(text, "cp4.yaml"), services_only=False))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "app: database" in row)
    assert findings and findings[0].where == f"cp4.yaml, document 12, line {line - 1}"


VALID_VARIANTS: dict[str, Callable[[list[dict]], object]] = {
    "numbered ports instead of names": lambda d: [
        first_port(d, n, direction).update(port=port) for n, direction, port in (
            ("web-from-outside", "ingress", 8080), ("web-to-api", "egress", 8080), ("api-from-web", "ingress", 8080),
            ("api-to-db", "egress", 6379), ("db-from-api", "ingress", 6379))],
    "the outside as ipBlock 0.0.0.0/0": set_ingress(
        "web-from-outside", [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "http"}]}]),
    "DNS to any namespace": lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["egress"][0]["to"][0].update(
        namespaceSelector={}),
    "DNS to any destination on port 53": lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["egress"][0].pop("to"),
    "DNS by the CoreDNS port names": lambda d: policy_doc(d, "dns-for-web-and-api")["spec"]["egress"][0].update(
        ports=[{"port": "dns", "protocol": "UDP"}, {"port": "dns-tcp"}]),
    "a port range holding the port": lambda d: first_port(d, "db-from-api", "ingress").update(port=6000, endPort=6400),
    "policyTypes left to their defaults": lambda d: [
        policy_doc(d, n)["spec"].pop("policyTypes") for n in ("web-from-outside", "api-from-web", "db-from-api")],
    "one policy per tier": lambda d: (
        [d.remove(policy_doc(d, n)) for n in ("web-to-api", "api-from-web", "api-to-db")],
        d.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "api"},
                  "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress", "Egress"],
                           "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                        "ports": [{"port": 8080}]}],
                           "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                                       "ports": [{"port": 6379}]}]}}),
        d.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web"},
                  "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
                           "egress": [{"to": API_ONLY, "ports": [{"port": "http"}]}]}})),
    "api reached from web in the same namespace only, by namespace name and pod": set_ingress(
        "api-from-web", [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": rules.NAMESPACE}},
                                    "podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}]),
    "readiness on the port number": lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0][
        "readinessProbe"]["httpGet"].update(port=8080),
}


@pytest.mark.parametrize("name", list(VALID_VARIANTS))
def test_every_valid_design_passes_every_rule(name):
    submission = submission_of(mutate(VALID_VARIANTS[name]))
    assert {rule: [str(f) for f in check(submission, rules.NAMESPACE)] for rule, check in rules.RULES.items()} == \
        {rule: [] for rule in rules.RULES}


def test_the_matrix_uses_the_submissions_labels_and_ports():
    docs = mutate(lambda d: [
        obj(d, "StatefulSet", "db")["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(containerPort=6380)])
    verdicts = rules.matrix(submission_of(docs))
    assert verdicts[("api", "db")].port == 6380 and verdicts[("api", "db")].allowed  # named ports follow the pod


def test_the_ingress_controller_is_an_outside_address():
    peers = rules.matrix_peers(submission_of(reference()))
    assert peers["host"].kind == rules.ADDRESS and peers["host"].ip == INGRESS_CONTROLLER_IP
    assert [peers[t.name].labels for t in TIERS] == [t.labels for t in TIERS]
