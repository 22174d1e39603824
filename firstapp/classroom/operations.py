"""Making and removing a class on the cluster (`firstapp class create` / `delete`).

Each learner is set up on their own, concurrently: one learner's failure is reported
naming them, and the rest of the class still goes through. Re-running `create` with
the same roster changes nobody's node port and hands out fresh tokens."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course.cluster import Cluster
from course.errors import NotFound, UnusableInput
from course.kube import client
from course.place import CLASS_NAMESPACE, LEARNER_LABEL, NODE_PORT_ANNOTATION, WORKSPACES, account_name
from firstapp.classroom import kubeconfigs, roster, tenancy
from firstapp.classroom.roster import Learner

WORKERS = 8
TOKEN_DAYS = 30


@dataclass(frozen=True)
class ClassFolder:
    """The instructor's folder for one class: roster, kubeconfigs, submissions, grades."""

    root: Path

    @property
    def roster(self) -> Path:
        return self.root / "roster.csv"

    def kubeconfig(self, learner: str) -> Path:
        return self.root / "kubeconfigs" / f"{learner}.kubeconfig"

    def submission(self, learner: str, lab: str) -> Path:
        return self.root / "submissions" / learner / lab

    def gradebook(self, lab: str) -> Path:
        return self.root / "gradebook" / lab

    @property
    def weights(self) -> Path:
        return self.root / "weights.toml"

    def learners(self) -> list[Learner]:
        """The class's roster, as `class create` recorded it."""
        try:
            text = self.roster.read_text()
        except OSError as error:
            raise UnusableInput(f"{self.roster}: no roster here ({error.strerror}); "
                                "run `firstapp class create --roster FILE` first") from error
        learners, _ = roster.parse(text, str(self.roster))
        return learners


@dataclass
class Outcome:
    """What a class command did: per learner a line, and the problems met."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def node_address(cluster: Cluster) -> str:
    """Where learners reach node ports: the first node's InternalIP."""
    with cluster.errors("list nodes", "the instructor's account must read nodes, or pass --node-address"):
        nodes = cluster.core.list_node().items
    for node in nodes:
        for address in node.status.addresses or []:
            if address.type == "InternalIP":
                return str(address.address)
    raise UnusableInput("no node has an InternalIP address; pass --node-address")


def _recorded_ports(cluster: Cluster) -> dict[str, int]:
    with cluster.errors("list the class's namespaces"):
        items = cluster.core.list_namespace(label_selector=LEARNER_LABEL).items
    ports = {}
    for item in items:
        port = (item.metadata.annotations or {}).get(NODE_PORT_ANNOTATION, "")
        if port.isdigit():
            ports[item.metadata.labels[LEARNER_LABEL]] = int(port)
    return ports


def _taken_ports(cluster: Cluster) -> set[int]:
    with cluster.errors("list Services in every namespace"):
        services = cluster.core.list_service_for_all_namespaces().items
    return {p.node_port for s in services for p in s.spec.ports or [] if p.node_port}


def create(cluster: Cluster, roster_file: Path, folder: ClassFolder, address: str | None = None,
           token_days: int = TOKEN_DAYS) -> Outcome:
    try:
        text = roster_file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{roster_file}: cannot read the roster ({error})") from error
    learners, problems = roster.parse(text, str(roster_file))
    outcome = Outcome(problems=problems)
    if not learners:
        raise UnusableInput(f"{roster_file}: no learner to create" + "".join(f"\n  {p}" for p in problems))
    try:  # before the cluster is touched: a class whose kubeconfigs cannot be written is not made
        folder.kubeconfig(learners[0].id).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UnusableInput(f"{folder.root}: cannot write the class's folder ({error.strerror})") from error
    address = address or node_address(cluster)
    cluster.apply(tenancy.class_wide(), None)
    ports = tenancy.assign_ports([learner.id for learner in learners], _recorded_ports(cluster), _taken_ports(cluster))
    server, ca_pem = cluster.api.configuration.host, Path(cluster.api.configuration.ssl_ca_cert).read_bytes()

    def one(learner: Learner) -> str:
        own = cluster.reconnect()
        own.apply(tenancy.namespaces(learner.id, ports[learner.id], address), None)
        own.apply(tenancy.account(learner.id), None)
        with own.errors(f"issue a token for learner {learner.id}"):
            token = own.core.create_namespaced_service_account_token(
                account_name(learner.id), CLASS_NAMESPACE,
                client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
                    audiences=[], expiration_seconds=token_days * 86400))).status.token
        path = folder.kubeconfig(learner.id)
        kubeconfigs.write(path, kubeconfigs.learner_kubeconfig(
            learner.id, server, ca_pem, token, f"{learner.id}-{WORKSPACES[0]}"))
        return f"{learner.id}: node port {ports[learner.id]} at {address}, kubeconfig {path}"

    for_each_learner(learners, one, outcome)
    created = {line.split(":", 1)[0] for line in outcome.done}
    known = {learner.id: learner for learner in (folder.learners() if folder.roster.exists() else [])}
    known.update({learner.id: learner for learner in learners if learner.id in created})
    try:
        folder.roster.write_text(roster.to_csv(sorted(known.values(), key=lambda learner: learner.id)))
    except OSError as error:
        raise UnusableInput(f"{folder.roster}: cannot record the class's roster ({error.strerror})") from error
    return outcome


def for_each_learner(learners: list[Learner], work: Callable[[Learner], str], outcome: Outcome) -> None:
    """Runs `work` for each learner concurrently; a learner's error becomes a problem
    naming them, and the others go on."""
    def guarded(learner: Learner) -> tuple[str, bool]:
        try:
            return work(learner), True
        except UnusableInput as error:
            return f"learner {learner.id}: {error}", False
        except OSError as error:  # the class folder: a kubeconfig or snapshot that cannot be written
            return f"learner {learner.id}: cannot write {error.filename} ({error.strerror})", False
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for line, ok in pool.map(guarded, learners):
            (outcome.done if ok else outcome.problems).append(line)


def delete(cluster: Cluster, folder: ClassFolder, wait: float = 300.0) -> Outcome:
    """Removes every learner's namespaces, accounts and rights, the class's policy and
    namespace, and the learners' kubeconfig files; nothing without the class's labels."""
    outcome = Outcome()
    learner_selector = LEARNER_LABEL
    with cluster.errors("list the class's namespaces"):
        namespaces = [n.metadata.name for n in cluster.core.list_namespace(label_selector=learner_selector).items]
    rbac, admission = client.RbacAuthorizationV1Api(cluster.api), client.AdmissionregistrationV1Api(cluster.api)
    with cluster.errors("remove the learners' cluster-wide rights"):
        rbac.delete_collection_cluster_role_binding(label_selector=learner_selector)
        rbac.delete_collection_cluster_role(label_selector=learner_selector)
    for kind, remove in (("ValidatingAdmissionPolicyBinding", admission.delete_validating_admission_policy_binding),
                         ("ValidatingAdmissionPolicy", admission.delete_validating_admission_policy),
                         ("ClusterRole", rbac.delete_cluster_role)):
        name = tenancy.WORK_ROLE if kind == "ClusterRole" else tenancy.POLICY
        try:
            with cluster.errors(f"delete {kind} {name}"):
                remove(name)
        except NotFound:
            pass
    for namespace in [*namespaces, CLASS_NAMESPACE]:
        cluster.delete_namespace(namespace, wait=0)
    deadline, left = time.monotonic() + wait, namespaces
    while left and time.monotonic() < deadline:
        with cluster.errors("list the class's namespaces"):
            left = [n.metadata.name for n in cluster.core.list_namespace(label_selector=learner_selector).items]
        time.sleep(0.5)
    if left:
        outcome.problems.append(f"{len(left)} namespaces still terminating after {wait:.0f} s: " + ", ".join(left[:5]))
    outcome.done.append(f"deleted {len(namespaces)} learner namespaces, the accounts and the class's policy")
    kubeconfig_folder = folder.root / "kubeconfigs"
    if kubeconfig_folder.is_dir():
        shutil.rmtree(kubeconfig_folder)
        outcome.done.append(f"removed {kubeconfig_folder}")
    return outcome
