"""What the lessons' code cells call, so that the cells stay one or two lines and the
prose does the teaching. Everything goes through `course.cluster.Cluster`.

This module is the notebooks' error boundary: imported in a kernel, it shows any
`UnusableInput` a cell raises (no cluster, a refused object, a missing file) as one
message naming the problem, not a traceback."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from course.cluster import Cluster, pod_is_ready
from course.errors import UnusableInput
from course.labs import LABS
from course.model import WEB_NODE_PORT
from course.paths import cache_dir, course_home
from course.probe import PROBE_LABEL, ProbePod
from firstapp import design, sample_app


def _show_unusable_input(shell: Any, kind: type, error: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    print(f"\033[31m{type(error).__name__}: {error}\033[0m")


def _install_error_boundary() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((UnusableInput,), _show_unusable_input)


_install_error_boundary()


def bring_up(provider: str | None = None) -> Cluster:
    """Starts (or finds) the course's cluster and its images, showing each step."""
    from firstapp.providers import choose

    chosen = choose(provider)
    chosen.up()
    chosen.load_images()
    cluster = Cluster.connect(chosen.context)
    print(f"connected to context {cluster.context}")
    return cluster


def kubectl(*args: str) -> None:
    """Runs kubectl against the current context and shows what it prints."""
    binary = shutil.which("kubectl", path=str(cache_dir() / "bin")) or shutil.which("kubectl")
    if binary is None:
        print("kubectl is not installed; the Python cells below do the same")
        return
    run = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    print((run.stdout + run.stderr).rstrip())


class Workspace:
    """One namespace a notebook works in, made fresh, removed by `cleanup`."""

    def __init__(self, namespace: str, cluster: Cluster | None = None) -> None:
        self.cluster = cluster or Cluster.connect()
        self.namespace = namespace
        self.cluster.delete_namespace(namespace)
        self.cluster.ensure_namespace(namespace)
        print(f"working in namespace {namespace} (context {self.cluster.context})")

    # -- applying and waiting -------------------------------------------------
    def apply(self, manifests: str | Path | list[dict[str, Any]], wait: bool = True) -> None:
        """Applies YAML text, a file, or objects; waits for their workloads unless told not to."""
        objects = _objects(manifests)
        if any(p.get("nodePort") == WEB_NODE_PORT for o in objects if o["kind"] == "Service"
               for p in o["spec"].get("ports", [])):
            for moved in self.cluster.release_node_port(WEB_NODE_PORT, keep_namespace=self.namespace):
                print(f"(node port {WEB_NODE_PORT} moved here from {moved})")
        for ref in self.cluster.apply(objects, self.namespace):
            print(f"applied {ref}")
        workloads = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
        if wait and workloads:
            started = time.monotonic()
            self.cluster.wait_available(self.namespace, workloads)
            print(f"{', '.join(workloads)} ready after {time.monotonic() - started:.0f} s")
        elif wait:
            self.wait_pods_ready()

    def wait(self, *workloads: str) -> None:
        """Waits until each `Kind/name` has all its replicas ready."""
        self.cluster.wait_available(self.namespace, list(workloads))

    def wait_pods_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pods = self._pods()
            if pods and all(pod_is_ready(p) for p in pods):
                return
            time.sleep(0.5)
        raise TimeoutError(f"pods in {self.namespace} not ready after {timeout:.0f} s")

    def delete(self, kind: str, name: str) -> None:
        deleters = {"Pod": self.cluster.core.delete_namespaced_pod,
                    "Service": self.cluster.core.delete_namespaced_service,
                    "Deployment": self.cluster.apps.delete_namespaced_deployment}
        deleters[kind](name, self.namespace)
        print(f"deleted {kind}/{name}")

    # -- looking --------------------------------------------------------------
    def _pods(self, app: str | None = None) -> list[Any]:
        selector = f"app={app}" if app else None
        with self.cluster.errors(f"list pods in namespace {self.namespace}"):
            pods = self.cluster.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        return [p for p in pods if not (p.metadata.labels or {}).get(PROBE_LABEL)]

    def pods(self, app: str | None = None) -> None:
        """A small `kubectl get pods -o wide`: name, ready, restarts, IP, node."""
        print(f"{'NAME':<28}{'READY':<7}{'RESTARTS':<10}{'IP':<16}NODE")
        for pod in self._pods(app):
            restarts = sum(s.restart_count for s in pod.status.container_statuses or [])
            print(f"{pod.metadata.name:<28}{'yes' if pod_is_ready(pod) else 'no':<7}{restarts:<10}"
                  f"{pod.status.pod_ip or '-':<16}{pod.spec.node_name or '-'}")

    def pod_names(self, app: str) -> list[str]:
        return sorted(p.metadata.name for p in self._pods(app) if p.metadata.deletion_timestamp is None)

    def pod_ip(self, name: str) -> str:
        return self.cluster.core.read_namespaced_pod(name, self.namespace).status.pod_ip

    def endpoints(self, service: str) -> None:
        """Which pod addresses a Service sends traffic to, and whether each is ready."""
        slices = self.cluster.discovery.list_namespaced_endpoint_slice(
            self.namespace, label_selector=f"kubernetes.io/service-name={service}").items
        rows = [(a, e.conditions.ready, e.target_ref.name if e.target_ref else "-")
                for s in slices for e in s.endpoints or [] for a in e.addresses]
        print(f"Service {service}: " + (", ".join(f"{pod} {ip} ({'ready' if ok else 'NOT ready'})"
                                                   for ip, ok, pod in rows) or "no endpoints"))

    def from_pod(self, *urls: str) -> None:
        """Requests each URL from a probe pod inside this namespace and says who answered."""
        with ProbePod(self.cluster, self.namespace, attempts=2) as probe:
            for url, result in zip(urls, probe.batch([("http", u) for u in urls])):
                print(f"{url:<52} {_who(result.ok, result.status, result.body, result.error)}")

    def lookup(self, name: str) -> list[str]:
        """Resolves a DNS name from inside the cluster."""
        with ProbePod(self.cluster, self.namespace, attempts=2) as probe:
            return list(probe.dns(name).addresses)

    # -- changing -------------------------------------------------------------
    def scale(self, deployment: str, replicas: int) -> None:
        self.cluster.apps.patch_namespaced_deployment_scale(deployment, self.namespace, {"spec": {"replicas": replicas}})
        self.cluster.wait_available(self.namespace, [f"Deployment/{deployment}"])
        print(f"Deployment/{deployment}: {replicas} replicas ready")

    def delete_pod_and_watch(self, name: str, timeout: float = 90.0) -> None:
        """Deletes a pod and reports what its controller (if any) does about it."""
        app = (self.cluster.core.read_namespaced_pod(name, self.namespace).metadata.labels or {}).get("app")
        before = self.pod_ip(name)
        self.cluster.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=1)
        print(f"deleted pod {name} (IP {before})")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = [p for p in self._pods(app) if pod_is_ready(p) and p.metadata.deletion_timestamp is None
                     and (p.metadata.name != name or p.status.pod_ip != before)]
            if fresh:
                pod = fresh[0]
                print(f"replaced by {pod.metadata.name} with IP {pod.status.pod_ip}")
                return
            time.sleep(0.5)
        print(f"nothing replaced {name} within {timeout:.0f} s: no controller owns it")

    def cleanup(self) -> None:
        self.cluster.delete_namespace(self.namespace, wait=0)
        print(f"namespace {self.namespace} deleted")


def from_host(url: str, patience: float = 10.0) -> None:
    """Requests `url` from this machine, as your browser would, and says who answered.
    Retries for up to `patience` seconds while the route is still being set up."""
    deadline = time.monotonic() + patience
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                print(f"{url:<40} {_who(True, response.status, response.read().decode(), '')}")
                return
        except urllib.error.HTTPError as error:
            answer = _who(True, error.code, error.read().decode(), "")
        except OSError as error:
            answer = _who(False, None, "", str(getattr(error, "reason", error)))
        if time.monotonic() > deadline:
            print(f"{url:<40} {answer}")
            return
        time.sleep(0.5)


def _who(ok: bool, status: int | None, body: str, error: str) -> str:
    if not ok:
        return f"no answer ({error})"
    try:
        answer = yaml.safe_load(body)
        return f"HTTP {status}: {answer['tier']} pod {answer['pod']} answered"
    except (yaml.YAMLError, TypeError, KeyError):
        return f"HTTP {status}: {body[:60]!r}"


def _objects(manifests: str | Path | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects from a list, a file (absolute or relative to the course folder) or YAML text."""
    if isinstance(manifests, list):
        return manifests
    if isinstance(manifests, Path) or "\n" not in manifests:
        manifests = (course_home() / manifests).read_text()
    return [d for d in yaml.safe_load_all(manifests) if d]


def service_designer(workspace: Workspace):
    """Decision #3's widget, whose Apply button applies the Services to `workspace`."""
    from firstapp.widgets import ServiceDesigner

    def apply(text: str) -> str:
        workspace.apply(text, wait=False)
        return "applied: " + ", ".join(f"{t}={k}" for t, k in designer.decision.items())
    designer = ServiceDesigner(on_apply=apply)
    return designer


def course_decision() -> dict[str, str]:
    return dict(design.COURSE_DECISION)


def reference_workloads(lab: str = "checkpoint-3") -> list[dict[str, Any]]:
    return [o for o in sample_app.reference_objects(lab) if o["kind"] != "Service"]


def answers_mode() -> bool:
    """True when notebooks run unattended (CI): labs then submit the reference solution."""
    return os.environ.get("FIRSTAPP_LAB_ANSWERS") == "reference"


class Lab:
    """A graded lab: its namespace, the starter file the learner edits, apply, check.

    Run unattended (FIRSTAPP_LAB_ANSWERS=reference, as CI does) it submits the
    reference solution instead of the starter file, proving the lab is solvable."""

    def __init__(self, checkpoint: str, cluster: Cluster | None = None) -> None:
        self.checkpoint = checkpoint
        self.lab = LABS[checkpoint]
        self.starter = course_home() / self.lab.starter
        self.workspace = Workspace(self.lab.namespace, cluster)
        if self.lab.services_only:  # the lab is about Services: the workloads are given
            self.workspace.apply(reference_workloads(checkpoint), wait=False)

    @functools.cached_property
    def submission(self) -> Path:
        if not answers_mode():
            return self.starter
        reference = [o for o in sample_app.reference_objects(self.checkpoint)
                     if not self.lab.services_only or o["kind"] == "Service"]
        path = Path(tempfile.mkdtemp(prefix="firstapp-")) / f"{self.checkpoint}-reference.yaml"
        path.write_text(yaml.safe_dump_all(reference, sort_keys=False))
        return path

    def editor(self):
        from firstapp.widgets import YamlEditor

        return YamlEditor(self.starter, on_check=lambda: (self.apply(), self.check())[1])

    def apply(self) -> None:
        """Applies the submission; a rejected file is reported, and nothing is applied."""
        print(f"applying {self.submission.name}")
        try:
            self.workspace.apply(self.submission, wait=False)
            self.workspace.wait_pods_ready(timeout=120)
        except UnusableInput as error:
            print(f"not applied: {error}")
        except TimeoutError as error:
            print(f"applied, but {error}; the check below will say why")

    def check(self):
        """The grader's table. Unattended, a reference solution that does not score full
        marks is an error: that is how CI proves the lab can be solved."""
        import grader

        shown = grader.check(self.checkpoint, manifests=self.submission, namespace=self.workspace.namespace)
        if answers_mode() and getattr(shown, "score", None) != getattr(shown, "max_score", -1):
            raise RuntimeError(f"the reference solution of {self.checkpoint} did not pass:\n{shown!r}")
        return shown

    def cleanup(self) -> None:
        self.workspace.cleanup()
