"""A graded lab in a notebook: where it works, the learner's file, Apply, Reset, hints.

Apply takes the text as it is in the editor (saved to the file too), refuses what
cannot be applied with one message naming the line (the grader's loader and schema),
applies every object labelled `firstapp.course/lab=<lab>` (all first as a dry run:
nothing half-applied), replaces an object whose immutable field changed after saying
so, removes the lab's objects no longer in the text (`kubectl apply --prune -l`), and
shows the grader's table with a hint per failing check that grows more specific each
time it still fails. Constructing a `Lab` again never deletes anything.

Run unattended (FIRSTAPP_LAB_ANSWERS=reference, as CI does) the editor holds the
reference solution, which must score full marks: that is how CI proves a lab can be
solved.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from course import applying
from course.cluster import Cluster, pod_is_ready
from course.errors import NotFound, UnusableInput
from course.labs import LABS
from course.model import WEB_NODE_PORT
from course.paths import course_home
from course.place import SOLO_HOST, Place, locate
from course.probe import PROBE_LABEL
from grader.findings import Finding, printable
from grader.hints import HintLadder, hint
from grader.loading import Manifest, load_text
from grader.notebook import NotebookResult, Problem
from grader.result import LabResult

LAB_LABEL = "firstapp.course/lab"
STARTERS = "labs/.starters"  # the pristine starter of each lab, which Reset puts back
READY_TIMEOUT = 120.0
DNS_CACHE_SECONDS = 30  # CoreDNS's `cache 30` (kind's and the local provider's): a replaced Service's old address lingers
STUCK_GRACE = 3.0  # seconds a pod may look stuck before Apply stops waiting for it (a retry may be under way)
STUCK_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CrashLoopBackOff",
                 "CreateContainerConfigError", "CreateContainerError")
_LADDERS: dict[tuple[str, str], HintLadder] = {}  # per lab and namespace: survives re-running `Lab(...)`


def answers_mode() -> bool:
    """True when notebooks run unattended (CI): labs then submit the reference solution."""
    return os.environ.get("FIRSTAPP_LAB_ANSWERS") == "reference"


def starter_text(lab_id: str) -> str:
    """The lab's starter as shipped (Reset puts it back)."""
    lab = LABS[lab_id]
    pristine = course_home() / STARTERS / lab_id / Path(lab.starter).name
    return (pristine if pristine.exists() else course_home() / lab.starter).read_text()


def reference_text(lab_id: str, node_port: int = WEB_NODE_PORT, host: str = SOLO_HOST) -> str | None:
    """The lab's reference solution (Services only where the lab gives the workloads),
    with `node_port` for the course's 30080 and `host` for its Ingress host
    firstapp.localhost; None if this copy of the course has none."""
    lab = LABS[lab_id]
    path = course_home() / lab.reference
    if not path.exists():
        return None
    objects = [o for o in yaml.safe_load_all(path.read_text()) if o and (not lab.services_only or o["kind"] == "Service")]
    for service in (o for o in objects if o["kind"] == "Service"):
        for port in service["spec"].get("ports", []):
            if port.get("nodePort") == WEB_NODE_PORT:
                port["nodePort"] = node_port
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            if rule.get("host") == SOLO_HOST:
                rule["host"] = host
    return yaml.safe_dump_all(objects, sort_keys=False)


def given_workloads(lab_id: str) -> list[dict[str, Any]]:
    """The workloads a Services-only lab gives the learner (in a learner edition, from
    k8s/given/, as it has no reference)."""
    from firstapp import sample_app

    return sample_app.given_objects(lab_id)


@dataclass
class Attempt:
    """What one Apply did and what the grader then said: shown as messages, then the
    table (or one problem)."""

    messages: list[str] = field(default_factory=list)
    applied: bool = False
    replaced: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    shown: NotebookResult | Problem | None = None
    progress: Callable[[str], None] | None = field(default=None, repr=False, compare=False)  # the editor's status line

    @property
    def result(self) -> LabResult | None:
        return self.shown.result if isinstance(self.shown, NotebookResult) else None

    def say(self, message: str) -> None:
        """Records a message, and shows it at once where something is watching."""
        self.messages.append(message)
        self.tell(message)

    def tell(self, status: str) -> None:
        """Shows what is happening now (not kept)."""
        if self.progress is not None:
            self.progress(status)

    def _repr_html_(self) -> str:
        import html

        messages = html.escape(printable("\n".join(self.messages)))
        table = self.shown._repr_html_() if self.shown is not None else ""
        return f"<pre class='firstapp-apply' style='white-space:pre-wrap;margin:0 0 6px 0'>{messages}</pre>{table}"

    def __repr__(self) -> str:
        return "\n".join([*self.messages, repr(self.shown) if self.shown is not None else ""]).rstrip() + "\n"


class Lab:
    """One lab in its place: `Lab("checkpoint-1")`, then `lab.editor()`."""

    def __init__(self, checkpoint: str, cluster: Cluster | None = None, file: str | Path | None = None,
                 quiet: bool = False) -> None:
        if checkpoint not in LABS:
            raise UnusableInput(f"unknown lab {checkpoint!r}; the labs are {', '.join(LABS)}")
        self.checkpoint = checkpoint
        self.lab = LABS[checkpoint]
        self.cluster = cluster or Cluster.connect()
        self.place: Place = locate(self.cluster, checkpoint)
        self.file = Path(file) if file is not None else (self.submission if answers_mode()
                                                          else course_home() / self.lab.starter)
        self.hints = _LADDERS.setdefault((checkpoint, self.place.namespace), HintLadder())
        self._editor: Any = None
        if not self.place.in_class:  # a class learner's namespace is the instructor's to make
            self._wait_namespace_gone_if_deleting()
            self.cluster.ensure_namespace(self.place.namespace)
        if not quiet:
            print(f"working in namespace {self.namespace} (context {self.cluster.context}); "
                  f"your web answers at {self.place.url}")
            if self.lab.networking:  # the lab publishes web through the ingress controller
                print(self.publishing())

    def _namespace_phase(self) -> str | None:
        """Active, Terminating, or None: no such namespace."""
        try:
            with self.cluster.errors(f"read namespace {self.namespace}"):
                return str(self.cluster.core.read_namespace(self.namespace).status.phase)
        except NotFound:
            return None

    def _wait_namespace_gone_if_deleting(self, timeout: float = 120.0) -> None:
        """After `cleanup` the namespace takes a while to go; a new start waits for that."""
        if self._namespace_phase() == "Terminating":
            print(f"waiting for namespace {self.namespace} to finish being deleted...")
            self.cluster.delete_namespace(self.namespace, wait=timeout)
            if self._namespace_phase() == "Terminating":  # what is applied there now would be deleted with it
                raise UnusableInput(f"namespace {self.namespace} is still being deleted after {timeout:.0f} s; run "
                                    f"this cell again in a minute (`kubectl get namespace {self.namespace}`)")

    @property
    def namespace(self) -> str:
        return self.place.namespace

    @property
    def host(self) -> str:
        """The host name this learner's Ingress claims: firstapp.localhost on their own
        cluster, <learner>.firstapp.localhost in a class."""
        return self.place.host

    def publishing(self) -> str:
        """The host the learner's Ingress claims, as the lab says it (the ingress
        controller listens on the cluster's machine only)."""
        if not self.place.in_class:
            return f"your Ingress's host is {self.host}: once published, web answers at http://{self.host}/"
        return (f"your Ingress's host is {self.host} (each learner of the class has their own; not "
                f"{SOLO_HOST}): once published, web answers at http://{self.host}/ on the cluster's machine")

    @property
    def selector(self) -> str:
        return f"{LAB_LABEL}={self.checkpoint}"

    @functools.cached_property
    def submission(self) -> Path:
        """Unattended: the reference solution, written once to a private folder of its own."""
        placed = "place" in self.__dict__
        node_port, host = (self.place.node_port, self.place.host) if placed else (WEB_NODE_PORT, SOLO_HOST)
        path = Path(tempfile.mkdtemp(prefix="firstapp-")) / f"{self.checkpoint}-reference.yaml"
        path.write_text(reference_text(self.checkpoint, node_port, host) or "")
        return path

    # -- the learner's text ---------------------------------------------------
    def text(self) -> str:
        """What the editor shows now (unsaved edits included), else the file, else the starter."""
        if self._editor is not None:
            return str(self._editor.value)
        return self.file.read_text() if self.file.exists() else starter_text(self.checkpoint)

    def save(self, text: str) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text(text)

    def editor(self) -> Any:
        """The editor widget: the file with line numbers, Apply, Reset (and the lab's
        disruptive check's button: checkpoint 2's "delete one web pod and watch")."""
        from firstapp.lab_editor import LabEditor

        self._editor = LabEditor(self, self.text())
        return self._editor

    # -- Apply ----------------------------------------------------------------
    def apply(self, text: str | None = None, progress: Callable[[str], None] | None = None) -> Attempt:
        """What the Apply button does: saves `text` (default: the editor's) to the file,
        applies it and grades it; `progress` is told each step as it happens."""
        text = self.text() if text is None else text
        attempt = Attempt(progress=progress)
        try:
            self.save(text)
        except OSError as error:
            attempt.say(f"could not save {self.file.name} ({error.strerror or error}); applying the editor's text anyway")
        try:
            manifests = load_text(text, self.file.name)
        except UnusableInput as error:
            attempt.say(f"not applied: {error}")
            attempt.messages += _excerpt(text, str(error))
            attempt.shown = Problem("fix the YAML above, then press Apply again")
            return attempt
        try:
            self._apply(manifests, attempt)
            attempt.tell("checking: reading the namespace and sending real traffic")
            attempt.shown = self._grade(manifests)
        except UnusableInput as error:
            attempt.say(f"stopped: {error}")
            attempt.shown = Problem(str(error))
        self._insist_on_full_marks(attempt.shown)
        return attempt

    def _refusals(self, manifests: list[Manifest]) -> list[str]:
        """What is wrong with the text before the cluster is asked: the schema's findings
        (with their lines) and objects meant for another namespace."""
        from grader import schema

        problems = [str(f) for f in schema.validate(manifests)]
        for manifest in manifests:
            namespace = (manifest.body.get("metadata") or {}).get("namespace")
            if namespace not in (None, self.namespace):
                problems.append(str(Finding(manifest.ref, "metadata.namespace",
                                            f"this lab works in namespace {self.namespace}",
                                            expected=f"{self.namespace} or nothing", found=namespace,
                                            where=str(manifest.source))))
        return problems

    def _labelled(self, manifests: list[Manifest]) -> list[dict[str, Any]]:
        bodies = []
        for manifest in manifests:
            body = copy.deepcopy(manifest.body)
            metadata = body.setdefault("metadata", {})
            metadata.pop("namespace", None)
            metadata["labels"] = {**(metadata.get("labels") or {}), LAB_LABEL: self.checkpoint}
            bodies.append(body)
        return bodies

    def _apply(self, manifests: list[Manifest], attempt: Attempt) -> None:
        problems = self._refusals(manifests)
        if problems:
            attempt.say(f"not applied: {len(problems)} problem{'s' if len(problems) > 1 else ''} in your file "
                        "(nothing was changed in the cluster):")
            attempt.messages += [f"  {p}" for p in problems]
            return
        bodies = self._labelled(manifests)
        if self.lab.services_only:
            self._ensure_given({applying.ref_of(b) for b in bodies}, attempt)
        self._take_node_port(bodies, attempt)
        refusals = applying.dry_run_each(self.cluster, bodies, self.namespace)
        replace = [b for b in bodies if (e := refusals[applying.ref_of(b)]) is not None and applying.is_immutable_refusal(e)]
        refused = {ref: e for ref, e in refusals.items() if e is not None and not applying.is_immutable_refusal(e)}
        for body in replace:
            try:
                applying.dry_run_create(self.cluster, body, self.namespace)
            except UnusableInput as error:
                refused[applying.ref_of(body)] = error  # type: ignore[assignment]
        if refused:
            attempt.say("not applied: Kubernetes refused your file (nothing was changed in the cluster):")
            attempt.messages += [f"  {ref}: {getattr(e, 'message', e)}" for ref, e in refused.items()]
            return
        updated = [b for b in bodies if b not in replace]
        if updated:
            self.cluster.apply(updated, self.namespace)
        for body in replace:
            ref = applying.ref_of(body)
            attempt.say(f"{ref}: {_immutable(body['kind'])} (the API server said: {_first_clause(refusals[ref])}); "
                        f"so it is replaced: {ref} is deleted, then created from your file")
            applying.delete(self.cluster, body["apiVersion"], body["kind"], body["metadata"]["name"], self.namespace)
            self.cluster.apply([body], self.namespace)
            attempt.replaced.append(ref)
        kinds = (*applying.PRUNABLE_KINDS, *{(b["apiVersion"], b["kind"]) for b in bodies})
        attempt.pruned = applying.prune(self.cluster, self.namespace, self.selector,
                                        {applying.ref_of(b) for b in bodies}, kinds)
        for ref in attempt.pruned:
            attempt.say(f"removed {ref}: it is no longer in your file")
        attempt.applied = True
        attempt.say(f"applied to namespace {self.namespace}: {', '.join(applying.ref_of(b) for b in bodies)}")
        attempt.tell("waiting for the pods to be ready")
        waited = self._wait_ready(bodies)
        if waited:
            attempt.say(waited)
        services = [ref for ref in attempt.replaced if ref.startswith("Service/")]
        if services:
            attempt.say(f"waiting {DNS_CACHE_SECONDS} s before checking: the cluster's DNS keeps a name's answer that "
                        f"long, so {', '.join(services)} may still resolve to the old address until then")
            time.sleep(DNS_CACHE_SECONDS)

    def _ensure_given(self, written: set[str], attempt: Attempt) -> None:
        """The workloads a Services-only lab gives, applied if missing (labelled apart,
        so pruning the learner's objects never removes them)."""
        given = [o for o in given_workloads(self.checkpoint) if applying.ref_of(o) not in written]
        present = {f"{kind}/{name}" for _, kind, name in
                   applying.labelled(self.cluster, self.namespace, f"{LAB_LABEL}={self.checkpoint}-given")}
        missing = [o for o in given if applying.ref_of(o) not in present]
        for body in missing:
            body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}),
                                          LAB_LABEL: f"{self.checkpoint}-given"}
        if missing:
            self.cluster.apply(missing, self.namespace)
            attempt.say(f"started the workloads this lab gives you: {', '.join(applying.ref_of(o) for o in missing)}")

    def _take_node_port(self, bodies: list[dict[str, Any]], attempt: Attempt) -> None:
        """On their own cluster a learner's web takes node port 30080 from whichever
        namespace holds it (node ports are cluster-wide); in a class never (each
        learner has their own port, and other namespaces are not theirs)."""
        if self.place.in_class:
            return
        wants = any(isinstance(p, dict) and p.get("nodePort") == self.place.node_port
                    for b in bodies if b["kind"] == "Service" for p in (b.get("spec") or {}).get("ports") or [])
        if not wants:
            return
        space = self._space()
        holders = [f"{s.metadata.namespace}/{s.metadata.name}" for s in space._holders(mine=False)]
        if holders:
            with contextlib.redirect_stdout(io.StringIO()):  # its lines speak of a lesson; these speak of the lab
                space.take_node_port(quiet=True)
            for moved in holders:
                attempt.say(f"node port {self.place.node_port} moved here from Service {moved} (node ports are "
                            "cluster-wide); lab.cleanup() gives it back")

    def _space(self) -> Any:
        """The lessons' Workspace of this place, for lending and giving back the node port
        (never `fresh`: it clears nothing)."""
        from firstapp.workspace import Workspace

        with contextlib.redirect_stdout(io.StringIO()):
            return Workspace(self.checkpoint, self.cluster, fresh=False)

    def _pods(self) -> list[Any]:
        with self.cluster.errors(f"list pods in namespace {self.namespace}"):
            pods = self.cluster.core.list_namespaced_pod(self.namespace).items
        return [p for p in pods if not (p.metadata.labels or {}).get(PROBE_LABEL)]

    def _wait_ready(self, bodies: list[dict[str, Any]], timeout: float = READY_TIMEOUT) -> str:
        """Waits until every pod of the lab is ready; says so only when that took a while
        or did not happen (the table then says why)."""
        started = time.monotonic()
        while True:
            pods = [p for p in self._pods() if p.metadata.deletion_timestamp is None]
            workloads_done = self._workloads_rolled_out(bodies)
            if workloads_done and pods and all(pod_is_ready(p) and _caught_up(p) for p in pods):
                took = time.monotonic() - started
                return f"all pods ready after {took:.0f} s" if took >= 5 else ""
            stuck = [f"pod {p.metadata.name}: {reason}" for p in pods if (reason := _stuck(p))]
            if stuck and time.monotonic() - started > STUCK_GRACE:
                return (f"not ready, and waiting will not help: {'; '.join(stuck)} (see "
                        f"`kubectl -n {self.namespace} describe pods`); the table below says what to fix")
            if time.monotonic() - started > timeout:
                waiting = [p.metadata.name for p in pods if not pod_is_ready(p)] or ["(no pods yet)"]
                return (f"not ready after {timeout:.0f} s: {', '.join(waiting)}; the table below says why "
                        f"(or `kubectl -n {self.namespace} describe pods`)")
            time.sleep(0.5)

    def _workloads_rolled_out(self, bodies: list[dict[str, Any]]) -> bool:
        for body in bodies:
            if body["kind"] not in ("Deployment", "StatefulSet"):
                continue
            read = (self.cluster.apps.read_namespaced_deployment if body["kind"] == "Deployment"
                    else self.cluster.apps.read_namespaced_stateful_set)
            with self.cluster.errors(f"read {applying.ref_of(body)}"):
                workload = read(body["metadata"]["name"], self.namespace)
            wanted = workload.spec.replicas or 0
            status = workload.status
            if (status.updated_replicas or 0) < wanted or (status.ready_replicas or 0) < wanted \
                    or (status.replicas or 0) > wanted:
                return False
        return True

    # -- grading --------------------------------------------------------------
    def _grade(self, manifests: list[Manifest] | None = None, allow_disruption: bool = False) -> NotebookResult:
        from grader.run import grade_live

        if manifests is None:
            manifests = load_text(self.text(), self.file.name)
        result = grade_live(self.checkpoint, self.namespace, manifests, allow_disruption=allow_disruption,
                            cluster=self.cluster, node_address=self.place.node_address)
        levels = self.hints.record(result.checks)
        reference = reference_text(self.checkpoint, self.place.node_port, self.place.host)
        name = self.lab.reference
        hints = {check.id: hint(check, levels[check.id], reference, name)
                 for check in result.visible if check.id in levels}
        disruption = self.lab.disruption
        notes = {disruption.check: f"not run yet: it {disruption.effect.split(';')[0]}, so it runs when you press "
                                   f"\u201c{disruption.button.lower()}\u201d (or run lab.disrupt())"} if disruption else {}
        return NotebookResult(result, hints, notes)

    def check(self) -> NotebookResult | Problem:
        """Grades what the editor (or the file) holds against what is applied, without applying."""
        try:
            shown: NotebookResult | Problem = self._grade()
        except UnusableInput as error:
            shown = Problem(str(error))
        self._insist_on_full_marks(shown)
        return shown

    def disrupt(self) -> NotebookResult | Problem:
        """The lab's disruptive check, run knowingly (checkpoint 2: deletes one web pod
        and watches its Deployment replace it; checkpoint 4: takes db away for a moment
        and watches api leave its Service and come back), then shows the whole table."""
        if self.lab.disruption is None:
            return Problem(f"{self.checkpoint} has no disruptive check")
        try:
            shown: NotebookResult | Problem = self._grade(allow_disruption=True)
        except UnusableInput as error:
            shown = Problem(str(error))
        self._insist_on_full_marks(shown)
        return shown

    def _insist_on_full_marks(self, shown: NotebookResult | Problem | None) -> None:
        if answers_mode() and (not isinstance(shown, NotebookResult) or shown.score != shown.max_score):
            raise RuntimeError(f"the reference solution of {self.checkpoint} did not pass:\n{shown!r}")

    # -- starting over --------------------------------------------------------
    def reset(self, confirm: bool = False) -> str:
        """Puts the starter back in the editor and the file and removes the lab's objects
        from the cluster. Asks first: `lab.reset(confirm=True)` (the Reset button asks
        with a second button)."""
        if not confirm:
            return (f"Reset puts the starter back into {self.file.name} (your text is lost) and deletes this lab's "
                    f"objects in namespace {self.namespace}; to do it, run lab.reset(confirm=True)")
        text = starter_text(self.checkpoint)
        self.save(text)
        if self._editor is not None:
            self._editor.value = text
        removed = applying.prune(self.cluster, self.namespace, self.selector, keep=())
        self.hints.failures.clear()
        return (f"the starter is back in {self.file.name}; removed from namespace {self.namespace}: "
                f"{', '.join(removed) or 'nothing (there was nothing applied)'}")

    def cleanup(self) -> str:
        """When done: removes the lab's objects (yours and those the lab gave); your file
        stays. On your own cluster the lab's namespace goes too."""
        given_back = ""
        if not self.place.in_class and self._namespace_phase() == "Active":
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                self._space().give_back_node_port()
            given_back = "".join(f"; {line}" for line in output.getvalue().splitlines() if line.startswith("gave "))
        removed = applying.prune(self.cluster, self.namespace, self.selector, keep=(), wait=0)
        removed += applying.prune(self.cluster, self.namespace, f"{LAB_LABEL}={self.checkpoint}-given", keep=(), wait=0)
        if not self.place.in_class:
            self.cluster.delete_namespace(self.namespace, wait=0)
            removed.append(f"namespace {self.namespace}")
        return f"removed: {', '.join(removed) or 'nothing'}; your file {self.file.name} is kept{given_back}"


_IMMUTABLE_FIELDS = {
    "Pod": "Kubernetes does not change a running Pod's containers (ports, probes, commands...); only its images",
    "StatefulSet": "Kubernetes does not change a StatefulSet's selector, serviceName or volumeClaimTemplates",
    "Deployment": "Kubernetes does not change a Deployment's selector",
    "Service": "Kubernetes does not change a Service's clusterIP",
    "Job": "Kubernetes does not change a Job's pod template",
}


def _immutable(kind: str) -> str:
    return _IMMUTABLE_FIELDS.get(kind, f"Kubernetes does not change this field of an existing {kind}")


def _excerpt(text: str, message: str) -> list[str]:
    """The numbered line a loader's message points at (and the one before), with a caret
    under its column: what the editor's gutter shows, next to the message."""
    found = re.search(r"line (\d+), column (\d+)", message)
    lines = text.split("\n")
    if not found or not 1 <= int(found.group(1)) <= len(lines):
        return []
    line, column = int(found.group(1)), int(found.group(2))
    shown = [f"  {n:>4} | {printable(lines[n - 1], newlines=False)[:200]}" for n in range(max(1, line - 1), line + 1)]
    return [*shown, "         " + " " * (column - 1) + "^"]


def _caught_up(pod: Any) -> bool:
    """The kubelet has acted on the pod's latest spec (an image changed in place): its
    observed generation, where the cluster reports one, and each container's image."""
    observed = getattr(pod.status, "observed_generation", None)
    if observed is not None and pod.metadata.generation is not None and observed < pod.metadata.generation:
        return False
    wanted = {c.name: c.image for c in pod.spec.containers}
    return all(s.image == wanted.get(s.name) or str(s.image).endswith(f"/{wanted.get(s.name)}")
               for s in pod.status.container_statuses or [])


def _stuck(pod: Any) -> str:
    """Why a pod will not become ready by waiting (an image that cannot be had, a
    container that keeps crashing, a configuration it cannot start with), else ''."""
    wanted = {c.name: c.image for c in pod.spec.containers}
    for status in (pod.status.container_statuses or []):
        waiting = status.state.waiting if status.state else None
        if waiting is not None and waiting.reason in STUCK_REASONS:
            image = f" (image {wanted.get(status.name, status.image)})" if "Image" in waiting.reason else ""
            return f"{status.name} {waiting.reason}{image}"
    return ""


def _first_clause(error: Any, limit: int = 120) -> str:
    """The server's refusal, from the field it names, cut at a word."""
    message = str(getattr(error, "message", error))
    message = message.split(" is invalid: ", 1)[-1]
    if len(message) > limit:
        message = message[:limit].rsplit(" ", 1)[0] + " ..."
    return message


if "IPython" in sys.modules:  # in a kernel: unusable input is one message, never a traceback
    import firstapp.notebook  # noqa: F401
