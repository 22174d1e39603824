"""What a class is made of, as plain Kubernetes objects (no I/O here).

Per learner: a namespace per lesson and lab (`<id>-<workspace>`, labelled and annotated
with the learner's node port), a ServiceAccount in the instructor's namespace
`firstapp-class`, a RoleBinding in each of the learner's namespaces to the shared
ClusterRole `firstapp-learner-work` (the lab's work, in that namespace only), and a
ClusterRole/Binding that lets them read their own Namespace objects (to learn their
node port) and nothing else cluster-wide.

Once per class: that ClusterRole, and two ValidatingAdmissionPolicies for every learner
namespace: one refuses a Service whose node port is not the learner's, a LoadBalancer,
or externalIPs; the other an Ingress for a host that is not the learner's own
(`<id>.firstapp.localhost`), for every host, or with a default backend. Node ports and
the ingress controller's hosts are cluster-wide, so the cluster itself keeps learners apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from course.model import NODE_PORT_RANGE, WEB_NODE_PORT
from course.place import (
    CLASS_NAMESPACE,
    COURSE_LABEL,
    LEARNER_LABEL,
    NODE_ADDRESS_ANNOTATION,
    NODE_PORT_ANNOTATION,
    SOLO_HOST,
    WORKSPACE_LABEL,
    WORKSPACES,
    account_name,
    class_namespace,
)

FIRST_CLASS_PORT = 30100  # learners' node ports count up from here; 30080 stays the solo learner's
WORK_ROLE = "firstapp-learner-work"
POLICY = "firstapp-learner-services"
HOST_POLICY = "firstapp-learner-hosts"
COURSE = {COURSE_LABEL: "firstapp"}
PSA_BASELINE = {"pod-security.kubernetes.io/enforce": "baseline"}

# What a lesson or lab does in its namespace (apply, look, probe, delete), and no more:
# no Roles, no Secrets read, nothing cluster-wide.
WORK_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": [""], "resources": ["pods/log", "events", "endpoints"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets",
                                          "deployments/scale", "statefulsets/scale"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]


def learner_labels(learner: str) -> dict[str, str]:
    return {**COURSE, LEARNER_LABEL: learner}


def assign_ports(learners: Iterable[str], recorded: dict[str, int], taken: Iterable[int]) -> dict[str, int]:
    """Each learner's node port: the one already recorded for them (re-running `class
    create` changes nobody's), else the lowest port from 30100 that no learner and no
    Service in the cluster holds."""
    ports = {learner: recorded[learner] for learner in learners if learner in recorded}
    used = set(ports.values()) | set(recorded.values()) | set(taken) | {WEB_NODE_PORT}
    free = (port for port in range(FIRST_CLASS_PORT, NODE_PORT_RANGE.stop) if port not in used)
    for learner in learners:
        if learner not in ports:
            port = next(free, None)
            if port is None:
                raise ValueError(f"no free node port left for learner {learner}")
            ports[learner] = port
    return ports


def namespaces(learner: str, node_port: int, node_address: str) -> list[dict[str, Any]]:
    return [{
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {
            "name": class_namespace(learner, workspace),
            "labels": {**learner_labels(learner), WORKSPACE_LABEL: workspace, **PSA_BASELINE},
            "annotations": {NODE_PORT_ANNOTATION: str(node_port), NODE_ADDRESS_ANNOTATION: node_address},
        },
    } for workspace in WORKSPACES]


def account(learner: str) -> list[dict[str, Any]]:
    """The learner's ServiceAccount and their rights: the work in each of their
    namespaces, and reading their own Namespace objects."""
    name = account_name(learner)
    labels = learner_labels(learner)
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": CLASS_NAMESPACE}]
    own = [class_namespace(learner, workspace) for workspace in WORKSPACES]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": name, "namespace": CLASS_NAMESPACE, "labels": labels}},
        *[{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": name, "namespace": namespace, "labels": labels},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": WORK_ROLE},
           "subjects": subject} for namespace in own],
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": name, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["namespaces"], "resourceNames": own, "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": subject},
    ]


def class_wide() -> list[dict[str, Any]]:
    """The instructor's namespace, the learners' shared work role, and the admission
    policies that keep each learner on their own node port and their own host."""
    annotations = f"namespaceObject.metadata.annotations[{NODE_PORT_ANNOTATION!r}]"
    has_port = (f"has(namespaceObject.metadata.annotations) && "
                f"{NODE_PORT_ANNOTATION!r} in namespaceObject.metadata.annotations")
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CLASS_NAMESPACE, "labels": dict(COURSE)}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": WORK_ROLE, "labels": dict(COURSE)}, "rules": WORK_RULES},
        *_learner_policy(POLICY, "", "services", [
            {"expression": "!has(object.spec.type) || object.spec.type != 'LoadBalancer'",
             "message": "a learner's Service may not be of type LoadBalancer (the class shares one cluster)",
             "reason": "Forbidden"},
            {"expression": "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
             "message": "a learner's Service may not set externalIPs (the class shares one cluster)",
             "reason": "Forbidden"},
            {"expression": f"({has_port}) && (!has(object.spec.ports) || object.spec.ports.all(p, "
                           f"!has(p.nodePort) || p.nodePort == 0 || string(p.nodePort) == {annotations}))",
             "messageExpression": (f"'node ports are cluster-wide: in namespace ' + namespaceObject.metadata.name"
                                   f" + ' use your own node port, ' + ({has_port} ? {annotations} : '(none)')"),
             "reason": "Forbidden"},
        ]),
        *_learner_host_policy(),
    ]


def _learner_host_policy() -> list[dict[str, Any]]:
    """An Ingress in a learner's namespace routes only the learner's own host: the
    controller serves every namespace's Ingresses on one port 80, so a rule for another
    learner's host, for every host (no `host`) or a default backend would take their
    traffic."""
    own = f"namespaceObject.metadata.labels[{LEARNER_LABEL!r}] + {'.' + SOLO_HOST!r}"
    return _learner_policy(HOST_POLICY, "networking.k8s.io", "ingresses", [
        {"expression": "!has(object.spec.defaultBackend)",
         "messageExpression": f"'in a class an Ingress may not set spec.defaultBackend (it would answer for every "
                              f"learner); name your host ' + {own} + ' in a rule'",
         "reason": "Forbidden"},
        {"expression": f"!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && r.host == {own})",
         "messageExpression": f"'in a class each rule of an Ingress names your own host, ' + {own} + "
                              "'; spec.rules[].host found: ' + object.spec.rules.map(r, "
                              "has(r.host) ? r.host : '(none: every host)').join(', ')",
         "reason": "Forbidden"},
    ])


def _learner_policy(name: str, group: str, resource: str, validations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ValidatingAdmissionPolicy on creating or updating `resource`, and its binding to
    every learner namespace (those carrying the learner label)."""
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": name, "labels": dict(COURSE)},
         "spec": {
             "failurePolicy": "Fail",
             "matchConstraints": {"resourceRules": [{
                 "apiGroups": [group], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                 "resources": [resource]}]},
             "validations": validations,
         }},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name, "labels": dict(COURSE)},
         "spec": {"policyName": name, "validationActions": ["Deny"],
                  "matchResources": {"namespaceSelector": {"matchExpressions": [
                      {"key": LEARNER_LABEL, "operator": "Exists"}]}}}},
    ]
