"""Where a learner works: the namespace of a lesson or lab, the node port their web
tier opens and the host name their Ingress claims. A solo learner (the cluster's admin)
works in `lesson-N` / `lab-<lab>` on node port 30080, publishing `firstapp.localhost`.
A learner of a class (their own ServiceAccount, from `firstapp class create`) works in
`<learner>-<workspace>` on the node port recorded on that namespace, publishing
`<learner>.firstapp.localhost`, and may touch nothing else.

Pure naming and parsing here; `locate` asks the cluster who the caller is."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course.errors import UnusableInput
from course.labs import LABS
from course.model import WEB_NODE_PORT

if TYPE_CHECKING:
    from course.cluster import Cluster

LESSONS = ("lesson-1", "lesson-2", "lesson-3")
LAB_IDS = tuple(LABS)
WORKSPACES = LESSONS + LAB_IDS

CLASS_NAMESPACE = "firstapp-class"  # the instructor's: the learners' ServiceAccounts live here
ACCOUNT_PREFIX = "learner-"
NODE_PORT_ANNOTATION = "firstapp.course/node-port"
NODE_ADDRESS_ANNOTATION = "firstapp.course/node-address"  # where learners reach node ports
COURSE_LABEL, LEARNER_LABEL, WORKSPACE_LABEL = "course", "firstapp.learner", "firstapp.lab"
LEARNER_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?")  # <id>-checkpoint-3 stays a DNS label
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")  # DNS-1123
# The solo learner's ingress host. Curl and browsers take every name under .localhost
# to be this machine (the grader sends the Host header itself), so a class learner's
# <id>.firstapp.localhost reaches the same controller; the controller routes one host
# to one namespace only (the oldest Ingress claiming it), hence a host per learner.
SOLO_HOST = "firstapp.localhost"
# Where those names lead: the ingress controller listens on port 80 of the cluster's
# machine's loopback only (both providers), not on the node address a class's node ports
# answer at, so its host names are asked for here, as curl and browsers there would.
INGRESS_ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class Place:
    namespace: str
    node_port: int
    learner: str | None = None  # None: the solo learner, who owns the cluster
    node_address: str = "localhost"  # where the node port answers, as the learner types it

    @property
    def url(self) -> str:
        return f"http://{self.node_address}:{self.node_port}"

    @property
    def in_class(self) -> bool:
        return self.learner is not None

    @property
    def host(self) -> str:
        """The host name this learner's Ingress claims (checkpoint 4, lesson 3)."""
        return ingress_host(self.learner)


def is_host_name(text: str) -> bool:
    """A name an Ingress rule's host accepts: a DNS-1123 subdomain of at most 253 characters."""
    return len(text) <= 253 and _HOST_NAME.fullmatch(text) is not None


def check_learner_id(learner: str) -> str:
    if not LEARNER_ID.fullmatch(learner):
        raise UnusableInput(f"learner id {learner!r}: expected 1-20 lowercase letters, digits or inner hyphens")
    return learner


def solo_namespace(workspace: str) -> str:
    return workspace if workspace in LESSONS else f"lab-{workspace}"


def class_namespace(learner: str, workspace: str) -> str:
    return f"{learner}-{workspace}"


def ingress_host(learner: str | None) -> str:
    """`firstapp.localhost` for the solo learner, `<learner>.firstapp.localhost` for a
    learner of a class (a learner id is a DNS label, so the name is a valid host)."""
    return SOLO_HOST if learner is None else f"{learner}.{SOLO_HOST}"


def placed_hosts(objects: list[dict[str, Any]], host: str) -> list[dict[str, Any]]:
    """The objects with each Ingress rule for firstapp.localhost naming `host` instead (a
    class learner's own; a copy when anything changes): lessons are written for the
    solo learner."""
    if host == SOLO_HOST or not any(rule.get("host") == SOLO_HOST for rule in _ingress_rules(objects)):
        return objects
    objects = copy.deepcopy(objects)
    for rule in _ingress_rules(objects):
        if rule.get("host") == SOLO_HOST:
            rule["host"] = host
    return objects


def _ingress_rules(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for o in objects if o.get("kind") == "Ingress" and isinstance(o.get("spec"), dict)
            for rule in o["spec"].get("rules") or [] if isinstance(rule, dict)]


def namespace_host(labels: Mapping[str, str] | None) -> str:
    """The ingress host of a namespace, from its labels: its learner's when `firstapp
    class create` labelled it as a learner's (a label that is no learner id counts as
    none), else the solo learner's."""
    learner = (labels or {}).get(LEARNER_LABEL)
    return ingress_host(learner if learner is not None and LEARNER_ID.fullmatch(learner) else None)


def account_name(learner: str) -> str:
    return f"{ACCOUNT_PREFIX}{learner}"


def learner_of(username: str) -> str | None:
    """The learner id in a class account's user name, else None (not a class learner)."""
    prefix = f"system:serviceaccount:{CLASS_NAMESPACE}:{ACCOUNT_PREFIX}"
    return username.removeprefix(prefix) if username.startswith(prefix) else None


def _check_workspace(workspace: str) -> None:
    if workspace not in WORKSPACES:
        raise UnusableInput(f"unknown lesson or lab {workspace!r}; there are {', '.join(WORKSPACES)}")


def locate(cluster: Cluster, workspace: str) -> Place:
    """The caller's place for `workspace` ("lesson-3", "checkpoint-1", ...)."""
    _check_workspace(workspace)
    learner = learner_of(cluster.whoami())
    if learner is None:
        return Place(solo_namespace(workspace), WEB_NODE_PORT)
    namespace = class_namespace(learner, workspace)
    annotations = cluster.namespace_annotations(namespace)
    port = annotations.get(NODE_PORT_ANNOTATION, "")
    if not port.isdigit():
        raise UnusableInput(f"namespace {namespace} has no node port annotation {NODE_PORT_ANNOTATION}; "
                            "ask your instructor to run `firstapp class create` again")
    return Place(namespace, int(port), learner, annotations.get(NODE_ADDRESS_ANNOTATION) or "localhost")
