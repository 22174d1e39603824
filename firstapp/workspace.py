"""Where a lesson works, and what its cells call: apply (showing the YAML first), wait
(on conditions, with a live status line), look (pods, endpoints, DNS) and send real
traffic (from a probe pod, from this machine), each step printing its kubectl
equivalent. Everything goes through `course.cluster.Cluster`.

A lesson's place comes from `course.place.locate`: alone, namespace `lesson-N` and
node port 30080; in a class, `<learner>-lesson-N` and the learner's own node port,
where the namespace is the instructor's (never created or deleted here) and the port is
taken only from the learner's own other namespaces, never anyone else's. Re-running any cell is safe: a new `Workspace`
clears what an earlier run left, and deleting what is already gone is no error."""

from __future__ import annotations

import html
import json
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from course import traffic
from course.cluster import Cluster, pod_is_ready
from course.errors import ApiError, ClusterUnavailable, Forbidden, Invalid, NotFound
from course.model import APP_NAMESPACE, PROBE_IMAGE, TIERS, WEB_NODE_PORT
from course.paths import course_home
from course.place import INGRESS_ADDRESS, SOLO_HOST, WORKSPACES, Place, class_namespace, locate, placed_hosts
from course.probe import PROBE_LABEL, ProbePod

BORROWED_ANNOTATION = "firstapp.course/borrowed-services"  # Services this lesson took a node port from
_BORROWED_IN_CLASS: dict[str, list[dict[str, Any]]] = {}  # the same, for a class learner's namespace
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


CLEARED = "ingresses,networkpolicies,deployments,statefulsets,services,pods"  # what `clear` deletes, as kubectl names them


def say(*args: str) -> None:
    """Prints the kubectl command that does what the next step does."""
    print("$ kubectl " + " ".join(shlex.quote(a) for a in args))


@contextmanager
def status_line(title: str) -> Iterator[Callable[[str], None]]:
    """A line rewritten in place (a carriage return, which JupyterLab and terminals
    honour) while something runs: `with status_line("waiting") as show: show("1/3")`.
    The line is left showing the last text; nothing is printed when nothing was shown."""
    started = time.monotonic()
    width = [0]

    def show(detail: str) -> None:
        line = f"{title}: {detail} ({time.monotonic() - started:.0f} s)"
        sys.stdout.write("\r" + line.ljust(width[0]))
        sys.stdout.flush()
        width[0] = max(width[0], len(line))
    try:
        yield show
    finally:
        if width[0]:  # blank the line, and start the next text at its beginning
            sys.stdout.write("\r" + " " * width[0] + "\r")
            sys.stdout.flush()


@contextmanager
def ticking(title: str, latest: Callable[[], str], every: float = 1.0) -> Iterator[None]:
    """A status line that a thread rewrites every `every` seconds while the block runs
    (for work that blocks, such as starting the cluster): elapsed time and `latest()`."""
    done = threading.Event()

    def tick(show: Callable[[str], None]) -> None:
        while not done.wait(every):
            show(latest()[-100:] or "working")
    with status_line(title) as show:
        thread = threading.Thread(target=tick, args=(show,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


class YamlShown:
    """YAML in a collapsible block (JupyterLab), or in full as text elsewhere."""

    def __init__(self, objects: list[dict[str, Any]], title: str) -> None:
        self.text = yaml.safe_dump_all(objects, sort_keys=False)
        self.title = title

    def _repr_html_(self) -> str:
        return (f"<details><summary>{html.escape(self.title)} (click to show the YAML)</summary>"
                f"<pre>{html.escape(self.text)}</pre></details>")

    def __repr__(self) -> str:
        return f"{self.title}:\n{self.text}"


def show_yaml(objects: list[dict[str, Any]], title: str) -> None:
    try:
        from IPython.display import display
    except ImportError:
        print(repr(YamlShown(objects, title)))
        return
    display(YamlShown(objects, title))


def _objects(manifests: str | Path | list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """The objects, and the file they came from (relative to the course folder), if any."""
    if isinstance(manifests, list):
        return manifests, None
    source = None
    if isinstance(manifests, Path) or "\n" not in manifests:
        path = course_home() / manifests
        if not path.is_file():
            raise NotFound(f"read {manifests}", 404, "no such file in the course folder")
        source, manifests = str(manifests), path.read_text()
    try:
        docs = [d for d in yaml.safe_load_all(manifests) if d]
    except yaml.YAMLError as error:
        raise Invalid(f"read the YAML{' of ' + source if source else ''}", 422, str(error).replace("\n", " ")) from error
    bad = [d for d in docs if not (isinstance(d, dict) and isinstance(d.get("kind"), str)
                                   and isinstance((d.get("metadata") or {}).get("name"), str))]
    if bad:
        raise Invalid("read the YAML", 422, "every document needs a kind and a metadata.name")
    return docs, source


def _trimmed_service(service: Any) -> dict[str, Any]:
    """A Service as it can be created again: its spec without the cluster's addresses."""
    spec = {"type": service.spec.type, "selector": service.spec.selector,
            "ports": [{k: v for k, v in {"name": p.name, "port": p.port, "targetPort": p.target_port,
                                         "nodePort": p.node_port, "protocol": p.protocol}.items() if v is not None}
                      for p in service.spec.ports or []]}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": service.metadata.name, "namespace": service.metadata.namespace,
                         "labels": service.metadata.labels or {}},
            "spec": {k: v for k, v in spec.items() if v is not None}}


class Workspace:
    """A lesson's namespace: `Workspace("lesson-3")`. `fresh` (the default) clears what
    an earlier run of the lesson left there; `cleanup()` removes it at the end.

    Given a namespace instead of a lesson or lab id, works in that namespace as the
    solo learner (the labs' and tests' use)."""

    def __init__(self, name: str, cluster: Cluster | None = None, *, fresh: bool = True) -> None:
        self.cluster = cluster or Cluster.connect()
        self.place = locate(self.cluster, name) if name in WORKSPACES else Place(name, WEB_NODE_PORT)
        self.namespace = self.place.namespace
        where = f"working in namespace {self.namespace} (context {self.cluster.context})"
        if self.place.in_class:
            print(f"{where}, learner {self.place.learner}, your node port {self.place.node_port}")
        else:
            print(where)
            say("create", "namespace", self.namespace)
            self._wait_not_terminating()
            self.cluster.ensure_namespace(self.namespace)
        if fresh:
            say("delete", CLEARED, "--all", "-n", self.namespace, "--grace-period=1")
            self.clear()
            print(f"namespace {self.namespace} is ready, and empty")

    def _wait_not_terminating(self, timeout: float = 300.0) -> None:
        """A namespace an earlier `cleanup()` is still deleting takes nothing new: waits
        until it is gone, so that it can be made again."""
        deadline = time.monotonic() + timeout
        with status_line(f"namespace {self.namespace} is still being deleted by an earlier cleanup") as show:
            while True:
                try:
                    with self.cluster.errors(f"read namespace {self.namespace}"):
                        phase = self.cluster.core.read_namespace(self.namespace).status.phase
                except NotFound:
                    return
                if phase != "Terminating":
                    return
                if time.monotonic() > deadline:
                    raise ClusterUnavailable(f"namespace {self.namespace} is still being deleted after {timeout:.0f} s; "
                                             f"see `kubectl get namespace {self.namespace} -o yaml`, then run the cell again")
                show("waiting")
                time.sleep(0.5)

    # -- the lesson's own objects ---------------------------------------------
    def clear(self, timeout: float = 90.0) -> None:
        """Deletes the Ingresses, NetworkPolicies, Deployments, StatefulSets, Services and
        Pods of this namespace (a class learner may not delete the namespace itself) and
        waits until its pods are gone. Ingresses first: while one exists, even in a
        terminating namespace, it keeps its claim on firstapp.localhost."""
        ns, core, apps, networking = self.namespace, self.cluster.core, self.cluster.apps, self.cluster.networking
        with self.cluster.errors(f"clear namespace {ns}"):
            listed = [(networking.delete_namespaced_ingress, networking.list_namespaced_ingress(ns).items),
                      (networking.delete_namespaced_network_policy, networking.list_namespaced_network_policy(ns).items),
                      (apps.delete_namespaced_deployment, apps.list_namespaced_deployment(ns).items),
                      (apps.delete_namespaced_stateful_set, apps.list_namespaced_stateful_set(ns).items),
                      (core.delete_namespaced_service, core.list_namespaced_service(ns).items),
                      (core.delete_namespaced_pod, core.list_namespaced_pod(ns).items)]
        for delete, items in listed:
            for item in items:
                grace = {"grace_period_seconds": 1} if delete == core.delete_namespaced_pod else {}
                self._delete_quietly(delete, item.metadata.name, **grace)
        deadline = time.monotonic() + timeout
        with status_line(f"clearing namespace {ns}") as show:
            while True:
                with self.cluster.errors(f"list pods in namespace {ns}"):
                    left = len(core.list_namespaced_pod(ns).items)
                if not left or time.monotonic() > deadline:
                    break
                show(f"{left} pod(s) still terminating")
                time.sleep(0.5)

    def _delete_quietly(self, delete: Callable[..., Any], name: str, **options: Any) -> bool:
        """Deletes; False if it was already gone."""
        try:
            with self.cluster.errors(f"delete {name} in namespace {self.namespace}"):
                delete(name, self.namespace, **options)
        except NotFound:
            return False
        return True

    # -- applying and waiting -------------------------------------------------
    def apply(self, manifests: str | Path | list[dict[str, Any]], wait: bool = True, show: bool = True) -> None:
        """Applies YAML text, a file (relative to the course folder) or objects, showing
        the YAML first (text written in the cell is shown already); waits for the
        workloads to be ready unless told not to."""
        objects, source = _objects(manifests)
        kinds = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
        if show and not (isinstance(manifests, str) and source is None):
            show_yaml(objects, source or kinds)
        objects = self._place_node_ports(objects)
        objects = self._place_hosts(objects)
        say("apply", "--server-side", "-n", self.namespace, "-f", source or "-")
        for ref in self.cluster.apply(objects, self.namespace):
            print(f"applied {ref}")
        workloads = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if o["kind"] in WORKLOAD_KINDS]
        if wait and workloads:
            self.wait(*workloads)
        elif wait and any(o["kind"] == "Pod" for o in objects):
            self.wait_pods_ready()

    def _place_node_ports(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The course's node port 30080 is this learner's port: alone, taken from whichever
        namespace holds it; in a class, replaced by the learner's own."""
        ports = [p for o in objects if o["kind"] == "Service" for p in (o.get("spec") or {}).get("ports") or []
                 if isinstance(p, dict) and p.get("nodePort") == WEB_NODE_PORT]
        if not ports:
            return objects
        if self.place.in_class and self.place.node_port != WEB_NODE_PORT:
            objects = json.loads(json.dumps(objects))
            for o in objects:
                for p in (o.get("spec") or {}).get("ports") or []:
                    if isinstance(p, dict) and p.get("nodePort") == WEB_NODE_PORT:
                        p["nodePort"] = self.place.node_port
            print(f"(node port {WEB_NODE_PORT} is yours as {self.place.node_port} in this class)")
        self.take_node_port(quiet=True)
        return objects

    def _place_hosts(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """In a class, an Ingress for firstapp.localhost claims this learner's own host."""
        placed = placed_hosts(objects, self.place.host)
        if placed is not objects:
            print(f"({SOLO_HOST} is yours as {self.place.host} in this class)")
        return placed

    def wait(self, *workloads: str, timeout: float = 180.0) -> None:
        """Waits until each `Kind/name` has exactly its wanted replicas, all ready."""
        for ref in workloads:
            say("rollout", "status", "-n", self.namespace, ref.lower())
        started = time.monotonic()
        states: dict[str, tuple[int, int, int]] = {}
        with status_line("waiting") as show:
            while True:
                states = {ref: self._replicas(ref) for ref in workloads}
                pending = [ref for ref, (ready, now, wanted) in states.items() if not (ready >= wanted == now)]
                if not pending:
                    break
                if time.monotonic() - started > timeout:
                    raise ClusterUnavailable(
                        f"{', '.join(pending)} in namespace {self.namespace} not ready after {timeout:.0f} s; "
                        f"see `kubectl -n {self.namespace} describe pods`")
                show(", ".join(f"{ref} {states[ref][0]}/{states[ref][2]} ready" for ref in pending))
                time.sleep(0.5)
        print(", ".join(f"{ref} {states[ref][2]}/{states[ref][2]}" for ref in workloads)
              + f" ready after {time.monotonic() - started:.0f} s")

    def _replicas(self, ref: str) -> tuple[int, int, int]:
        """(ready, existing, wanted) replicas of `Kind/name`."""
        kind, name = ref.split("/", 1)
        read = self.cluster.apps.read_namespaced_deployment if kind == "Deployment" \
            else self.cluster.apps.read_namespaced_stateful_set
        with self.cluster.errors(f"read {ref} in namespace {self.namespace}"):
            workload = read(name, self.namespace)
        status = workload.status
        existing = status.replicas or 0
        if kind == "Deployment":  # a rollout may briefly run more; what counts is the updated ones
            existing = min(existing, status.updated_replicas or 0) if existing > (workload.spec.replicas or 0) else existing
        return status.ready_replicas or 0, existing, workload.spec.replicas or 0

    def wait_pods_ready(self, timeout: float = 120.0) -> None:
        say("wait", "--for=condition=Ready", "pods", "--all", "-n", self.namespace)
        deadline = time.monotonic() + timeout
        with status_line("waiting for pods") as show:
            while True:
                pods = self._pods()
                ready = [p for p in pods if pod_is_ready(p)]
                if pods and len(ready) == len(pods):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"pods in {self.namespace} not ready after {timeout:.0f} s")
                show(f"{len(ready)}/{len(pods)} ready")
                time.sleep(0.5)
        print(f"{len(pods)} pods ready")

    def delete(self, kind: str, name: str, timeout: float = 60.0) -> None:
        """Deletes `kind/name` and waits until it is gone; already gone is fine."""
        deleters = {"Pod": (self.cluster.core.delete_namespaced_pod, self.cluster.core.read_namespaced_pod),
                    "Service": (self.cluster.core.delete_namespaced_service, self.cluster.core.read_namespaced_service),
                    "Deployment": (self.cluster.apps.delete_namespaced_deployment,
                                   self.cluster.apps.read_namespaced_deployment),
                    "StatefulSet": (self.cluster.apps.delete_namespaced_stateful_set,
                                    self.cluster.apps.read_namespaced_stateful_set)}
        if kind not in deleters:
            raise Invalid(f"delete {kind}/{name}", 422, f"the lessons delete only {', '.join(deleters)}")
        # A lesson's pods hold nothing worth a 30 s grace period: one second to stop.
        grace = {"grace_period_seconds": 1} if kind == "Pod" else {}
        say("delete", "-n", self.namespace, f"{kind.lower()}/{name}", "--ignore-not-found",
            *(["--grace-period=1"] if grace else []))
        delete, read = deleters[kind]
        if not self._delete_quietly(delete, name, **grace):
            print(f"{kind}/{name} was already gone")
            return
        deadline = time.monotonic() + timeout
        with status_line(f"deleting {kind}/{name}") as show:
            while time.monotonic() < deadline:
                try:
                    with self.cluster.errors(f"read {kind}/{name}"):
                        read(name, self.namespace)
                except NotFound:
                    break
                show("terminating")
                time.sleep(0.5)
        print(f"deleted {kind}/{name}")

    # -- looking --------------------------------------------------------------
    def _pods(self, app: str | None = None) -> list[Any]:
        """The namespace's pods (not the probe's, not those being deleted)."""
        selector = f"app={app}" if app else None
        with self.cluster.errors(f"list pods in namespace {self.namespace}"):
            pods = self.cluster.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        return [p for p in pods if not (p.metadata.labels or {}).get(PROBE_LABEL) and p.metadata.deletion_timestamp is None]

    def pods(self, app: str | None = None) -> None:
        """A small `kubectl get pods -o wide`: name, ready, restarts, IP, node (pods being
        deleted are left out)."""
        say("get", "pods", "-n", self.namespace, "-o", "wide", *(["-l", f"app={app}"] if app else []))
        print(f"{'NAME':<26}  {'READY':<5}  {'RESTARTS':<8}  {'IP':<15}  NODE")
        for pod in sorted(self._pods(app), key=lambda p: p.metadata.name):
            restarts = sum(s.restart_count for s in pod.status.container_statuses or [])
            print(f"{pod.metadata.name:<26}  {'yes' if pod_is_ready(pod) else 'no':<5}  {restarts:<8}  "
                  f"{pod.status.pod_ip or '-':<15}  {pod.spec.node_name or '-'}")

    def pod_names(self, app: str) -> list[str]:
        return sorted(p.metadata.name for p in self._pods(app))

    def pod_ip(self, name: str) -> str:
        with self.cluster.errors(f"read pod {name} in namespace {self.namespace}"):
            ip: str = self.cluster.core.read_namespaced_pod(name, self.namespace).status.pod_ip or ""
        return ip

    def _endpoints(self, service: str) -> list[tuple[str, str, bool]]:
        """(pod, address, ready) of the Service's EndpointSlices."""
        with self.cluster.errors(f"list the EndpointSlices of Service {service}"):
            slices = self.cluster.discovery.list_namespaced_endpoint_slice(
                self.namespace, label_selector=f"kubernetes.io/service-name={service}").items
        return sorted((e.target_ref.name if e.target_ref else "-", a, bool(e.conditions.ready))
                      for s in slices for e in s.endpoints or [] for a in e.addresses)

    def endpoints(self, service: str) -> None:
        """Which pod addresses a Service sends traffic to, and whether each is ready."""
        say("get", "endpointslices", "-n", self.namespace, "-l", f"kubernetes.io/service-name={service}")
        self._print_endpoints(service)

    def _print_endpoints(self, service: str) -> None:
        rows = self._endpoints(service)
        print(f"Service {service}: " + (", ".join(f"{pod} {ip} ({'ready' if ok else 'NOT ready'})"
                                                   for pod, ip, ok in rows) or "no endpoints"))

    def wait_endpoints(self, service: str, ready: bool, timeout: float = 120.0) -> None:
        """Waits until the Service has a ready endpoint (`ready=True`) or none (`False`),
        as the EndpointSlice controller reports it, then shows its endpoints."""
        say("get", "endpointslices", "-n", self.namespace, "-l", f"kubernetes.io/service-name={service}", "--watch")
        wanted = "a ready endpoint" if ready else "no ready endpoint"
        deadline = time.monotonic() + timeout
        with status_line(f"waiting until Service {service} has {wanted}") as show:
            while any(ok for _, _, ok in self._endpoints(service)) != ready:
                if time.monotonic() > deadline:
                    raise ClusterUnavailable(f"Service {service} in namespace {self.namespace} still does not have "
                                             f"{wanted} after {timeout:.0f} s")
                show("watching its EndpointSlices")
                time.sleep(0.5)
        self._print_endpoints(service)

    def namespace_of(self, pod_ip: str) -> str | None:
        """The namespace of the pod with this IP: this one if a pod here has it, else any
        namespace the caller may list (a class learner may list only their own)."""
        if any(p.status.pod_ip == pod_ip for p in self._pods()):
            return self.namespace
        try:
            with self.cluster.errors("find the pod with IP " + pod_ip):
                pods = self.cluster.core.list_pod_for_all_namespaces(field_selector=f"status.podIP={pod_ip}").items
        except Forbidden:
            return None
        return pods[0].metadata.namespace if pods else None

    def who(self, result: traffic.ProbeResult) -> str:
        """What a probe got, in words: who answered, from which namespace, or why nothing did."""
        if not result.ok:
            return f"no answer: {result.failure.value if result.failure else result.error}"
        if result.body.startswith("+PONG"):
            return "Redis answered PONG"
        try:
            answer = json.loads(result.body)
            if isinstance(answer, dict) and answer.get("reply") == "PONG":  # api's /db: it asked Redis
                return f"HTTP {result.status}: api asked Redis at {str(answer.get('address'))[:40]}, which answered PONG"
            tier, pod, ip = answer["tier"], answer["pod"], answer["ip"]
        except (ValueError, TypeError, KeyError):
            return f"HTTP {result.status}: {result.body[:60]!r}"
        if not isinstance(ip, str) or not isinstance(pod, str):
            return f"HTTP {result.status}: {result.body[:60]!r}"
        namespace = self.namespace_of(ip) if traffic.is_ip(ip) else None
        where = ("this namespace" if namespace == self.namespace
                 else f"namespace {namespace}, NOT this lesson's" if namespace else "another namespace, NOT this lesson's")
        return f"HTTP {result.status}: {tier} pod {pod} answered ({where})"

    def from_pod(self, *urls: str) -> None:
        """Requests each URL from a probe pod inside this namespace and says who answered."""
        for url in urls:
            say("run", "probe", "-n", self.namespace, "--rm", "-i", "--restart=Never", f"--image={PROBE_IMAGE}", "--",
                "python3", "-c", f"import urllib.request as u; print(u.urlopen({json.dumps(url)}).read().decode())")
        with ProbePod(self.cluster, self.namespace, attempts=2) as probe:
            results = probe.batch([("http", u) for u in urls])
        for url, result in zip(urls, results):
            print(f"{url:<52}  {self.who(result)}")

    def lookup(self, name: str) -> list[str]:
        """Resolves a DNS name from inside the cluster."""
        with ProbePod(self.cluster, self.namespace, attempts=2) as probe:
            return list(probe.dns(name).addresses)

    def resolve(self, *names: str, patience: float = 45.0) -> None:
        """Resolves each name from a pod of this namespace and says what each address is.
        An address that is neither a pod nor a Service of this namespace is a stale answer
        from the DNS cache (CoreDNS keeps answers up to 30 s): asks again, for up to
        `patience` seconds, until the answers are today's."""
        for name in names:
            say("run", "probe", "-n", self.namespace, "--rm", "-i", "--restart=Never", f"--image={PROBE_IMAGE}", "--",
                "python3", "-c", f"import socket; print(socket.gethostbyname_ex({json.dumps(name)})[2])")
        deadline = time.monotonic() + patience
        with ProbePod(self.cluster, self.namespace, attempts=3) as probe, \
                status_line("the cluster's DNS may answer from its cache (up to 30 s); asking again") as show:
            while True:
                results = probe.batch([("dns", n) for n in names])
                pods = {p.status.pod_ip: p.metadata.name for p in self._pods()}
                with self.cluster.errors(f"list Services in namespace {self.namespace}"):
                    services = {s.spec.cluster_ip: s.metadata.name for s in self.cluster.core.list_namespaced_service(
                        self.namespace).items}
                stale = [r for r in results if r.ok and any(a not in pods and a not in services for a in r.addresses)]
                if not stale or time.monotonic() > deadline:
                    break
                show(f"{len(stale)} stale answer(s)")
                time.sleep(1.0)
        for name, result in zip(names, results):
            if not result.ok:
                print(f"{name:<40} -> not resolved ({result.failure.value if result.failure else result.error})")
                continue
            what = [f"{a} (pod {pods[a]})" if a in pods else f"{a} (Service {services[a]}'s cluster IP)"
                    if a in services else f"{a} (not in this namespace)" for a in sorted(result.addresses)]
            print(f"{name:<40} -> {', '.join(what)}")

    def chain(self, patience: float = 10.0) -> None:
        """Asks web for /chain from this machine: web calls api by its Service name, api
        calls db by its Service name; says who answered at each hop."""
        url = f"{self.place.url}/chain"
        print(f"$ curl {url}")
        result = _poll_host(url, patience)
        try:
            answer = json.loads(result.body) if result.ok else None
            hops = answer["hops"] if isinstance(answer, dict) else None
        except (ValueError, KeyError):
            hops = None
        if not isinstance(hops, list):
            print(f"{url:<40}  {self.who(result)}")
            return
        names = {p.status.pod_ip: p.metadata.name for p in self._pods()}
        with self.cluster.errors(f"list Services in namespace {self.namespace}"):
            names |= {s.spec.cluster_ip: f"Service {s.metadata.name}'s cluster IP"
                      for s in self.cluster.core.list_namespaced_service(self.namespace).items}
        for hop in [h for h in hops if isinstance(h, dict)]:
            name = str(hop.get("hop"))
            if "error" in hop:
                print(f"  {name:<7} failed: {str(hop['error'])[:120]}")
            elif name == "visits":
                print(f"  {name:<7} counted in Redis")
            else:
                at = hop.get("pod") or names.get(str(hop.get("ip")), "an address outside this namespace")
                print(f"  {name:<7} answered: {at}")
        failed = next((str(h.get("hop")) for h in hops if isinstance(h, dict) and "error" in h), None)
        print("web -> api -> db: every hop answered" if failed is None else f"the chain breaks at the {failed} hop")

    def from_host(self, path: str = "/whoami", patience: float = 10.0) -> None:
        """Requests this learner's node port from this machine, as a browser would, and says
        who answered and from which namespace. Retries for up to `patience` seconds while
        nothing answers (kube-proxy takes a moment to open a new node port)."""
        url = f"{self.place.url}{path}"
        print(f"$ curl {url}")
        result = _poll_host(url, patience)
        print(f"{url:<40}  {self.who(result)}")

    def through_ingress(self, path: str = "/whoami", times: int = 6, keep_cookie: bool = False,
                        patience: float = 30.0) -> None:
        """Sends `times` requests for http://<this learner's host>`path` through the ingress
        controller, as a browser would (with `keep_cookie`, carrying the session cookie
        the first answer set), and says which pods answered. Waits up to `patience`
        seconds until every pod of the tier answers (the controller learns new pods a
        moment after they are ready)."""
        from firstapp import lockdown

        url = f"http://{self.place.host}{path}"
        print(f"$ curl {'--cookie-jar jar --cookie jar ' if keep_cookie else ''}{url}   # {times} times")
        deadline = time.monotonic() + patience
        while True:
            try:
                first = lockdown.request(self.place.host, path)
                cookie = first.cookie if keep_cookie else ""
                answers = [first, *(lockdown.request(self.place.host, path, cookie) for _ in range(times - 1))]
            except OSError as error:
                answers, cookie = [], ""
                problem = f"no answer from the ingress controller on {INGRESS_ADDRESS}:80 ({error})"
            tier = answers[0].tier if answers else ""
            ready = [p.metadata.name for p in self._pods(tier) if pod_is_ready(p)] if tier else []
            settled = answers and all(a.status == 200 for a in answers) and \
                (keep_cookie or len(lockdown.spread(answers)) >= min(len(ready), times))
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not answers:
            print(problem)
            return
        if keep_cookie:
            print(f"the controller set the cookie {cookie.split('=')[0] or '(none)'}; every request carries it")
        counts = lockdown.spread(answers)
        for pod, count in sorted(counts.items()):
            print(f"  {pod:<40} answered {count} of {times}")
        kind = f"{tier} pod" if tier else "answer"
        print(f"{times} requests, answered by {len(counts)} {kind}{'s' if len(counts) != 1 else ''}")

    def truth_table(self) -> None:
        """Checkpoint 4's connectivity truth table of this namespace, with real packets:
        from inside a web pod, an api pod and a pod with no tier label, to each tier by
        name, full name and pod IP; expected (outside -> web -> api -> db, nothing else)
        beside observed, and why the namespace's policies allow or block each."""
        from grader import observe
        from grader.reports import connectivity_lines
        from grader.submission import Submission

        live = observe.collect(self.cluster, self.namespace, networking=True)
        observe.probe_connectivity(self.cluster, live, Submission(observe.as_submission(live), services_only=False))
        for line in connectivity_lines(live.connectivity, limit=110)[2:]:
            print(line[4:])
        probed = [c for c in live.connectivity if c.observed is not None]
        unprobed = {c.source for c in live.connectivity if c.observed is None}
        matching = sum(c.matches for c in probed)
        print(f"{len(probed)} probes, {matching} as intended" +
              (f"; not probed from {', '.join(sorted(unprobed))} (its image has no Python)" if unprobed else ""))

    def observe_tiers(self, sources: tuple[str, str]) -> dict[tuple[str, str], tuple[bool, str]]:
        """Who really reaches each tier's Service: (outside source, tier) probed from this
        machine through the tier's node port (no node port: blocked, nothing to connect
        to), (inside source, tier) from a probe pod by the Service's name. Each entry is
        (reached this namespace's tier, what happened in words)."""
        outside, inside = sources
        with self.cluster.errors(f"list Services in namespace {self.namespace}"):
            services = {s.metadata.name: s for s in self.cluster.core.list_namespaced_service(self.namespace).items}
        seen: dict[tuple[str, str], tuple[bool, str]] = {}
        probes = [("redis", f"{t.name}:{t.port}") if t.speaks_redis else ("http", f"http://{t.name}:{t.port}/whoami")
                  for t in TIERS]
        with ProbePod(self.cluster, self.namespace, attempts=3) as probe:
            results = probe.batch(probes)
        for tier, result in zip(TIERS, results):
            seen[(inside, tier.name)] = (result.ok and self._ours(result), self.who(result))
        for tier in TIERS:
            service = services.get(tier.name)
            node_ports = [p.node_port for p in (service.spec.ports if service else None) or [] if p.node_port]
            if not node_ports:
                note = "blocked: no node port"
                if tier.external:  # what a browser gets at the learner's URL all the same
                    result = traffic.from_host([("http", f"{self.place.url}/whoami")], timeout=2.0, attempts=1)[0]
                    if result.ok:
                        note += f" ({self.place.url} answers all the same: {self.who(result)})"
                seen[(outside, tier.name)] = (False, note)
                continue
            target = f"{self.place.node_address}:{node_ports[0]}"
            result = _poll_host(target if tier.speaks_redis else f"http://{target}/whoami", 10.0)
            seen[(outside, tier.name)] = (result.ok and self._ours(result), self.who(result))
        return seen

    def _ours(self, result: traffic.ProbeResult) -> bool:
        """An answer came from this namespace (an HTTP tier says its pod IP; Redis does not,
        and its PONG through this namespace's Service counts as ours)."""
        try:
            ip = json.loads(result.body).get("ip")
        except (ValueError, AttributeError):
            return True
        return not traffic.is_ip(ip) or self.namespace_of(ip) == self.namespace

    # -- the node port ----------------------------------------------------------
    def _holders(self, mine: bool) -> list[Any]:
        """The Services holding this learner's node port: in this namespace (`mine`), or
        elsewhere; in a class, elsewhere means the learner's own other namespaces only."""
        if mine or not self.place.in_class:
            with self.cluster.errors(f"list the Services holding node port {self.place.node_port}"):
                services = (self.cluster.core.list_namespaced_service(self.namespace).items if mine
                            else self.cluster.core.list_service_for_all_namespaces().items)
        else:
            services = []
            for workspace in WORKSPACES:
                namespace = class_namespace(self.place.learner or "", workspace)
                if namespace == self.namespace:
                    continue
                try:
                    with self.cluster.errors(f"list the Services of namespace {namespace}"):
                        services += self.cluster.core.list_namespaced_service(namespace).items
                except (NotFound, Forbidden):
                    continue
        return [s for s in services if (s.metadata.namespace == self.namespace) == mine
                and any(p.node_port == self.place.node_port for p in s.spec.ports or [])]

    def take_node_port(self, quiet: bool = False) -> None:
        """Node ports are cluster-wide: this learner's port answers for one namespace at a
        time. Takes it from the Services that hold it elsewhere (alone: any namespace, such
        as the sample app's after `./run-course`; in a class: only the learner's own other
        namespaces, such as their checkpoint 3), remembering them for `give_back_node_port`,
        and waits until the port no longer reaches their pods."""
        port = self.place.node_port
        holders = self._holders(mine=False)
        if not holders:
            if not quiet:
                print(f"node port {port} is yours alone in this class: no other namespace of yours holds it"
                      if self.place.in_class else f"node port {port} is free: no other namespace answers on it")
            return
        self._remember([_trimmed_service(s) for s in holders])
        for service in holders:
            ref = f"{service.metadata.namespace}/{service.metadata.name}"
            print(f"$ kubectl delete service -n {service.metadata.namespace} {service.metadata.name}")
            with self.cluster.errors(f"delete Service {ref}"):
                try:
                    self.cluster.core.delete_namespaced_service(service.metadata.name, service.metadata.namespace)
                except NotFound:
                    pass
            print(f"node port {port} was held by Service {ref}; this lesson takes it until its cleanup gives it back")
        _wait_host_not_reaching(self, f"{self.place.url}/whoami")

    def give_back_node_port(self) -> None:
        """Re-creates the Services `take_node_port` took the port from (after removing this
        namespace's own holders of the port)."""
        borrowed = self._remembered()
        if not borrowed:
            return
        for service in self._holders(mine=True):
            self.delete("Service", service.metadata.name)
        for body in borrowed:
            owner = body["metadata"].pop("namespace")
            ref = f"{owner}/{body['metadata']['name']}"
            if not (owner == APP_NAMESPACE or self.place.in_class or self._exists(owner)):
                continue
            try:
                self._recreate(body, owner)
            except Invalid:  # another namespace took the port meanwhile: it is theirs now
                holders = ", ".join(f"{s.metadata.namespace}/{s.metadata.name}" for s in self._holders(mine=False))
                print(f"node port {self.place.node_port} is held by Service {holders or 'another'} now, so Service "
                      f"{ref} was not re-created" + (" (`firstapp up --with-app` redeploys the sample app)"
                                                     if owner == APP_NAMESPACE else ""))
                continue
            except ApiError as error:  # its namespace is being deleted, or is no longer the learner's
                print(f"Service {ref} was not re-created: {error}")
                continue
            print(f"gave node port {self.place.node_port} back to Service {ref}")
        self._forget()

    # Alone, what was taken is remembered on the lesson's namespace (it outlives the kernel);
    # in a class the namespace is the instructor's, so it is remembered in this kernel.
    def _remember(self, services: list[dict[str, Any]]) -> None:
        def key(body: dict[str, Any]) -> tuple[str, str]:
            return body["metadata"].get("namespace", ""), body["metadata"]["name"]
        latest = {key(b): b for b in services}
        borrowed = [b for b in self._remembered() if key(b) not in latest] + services
        if self.place.in_class:
            _BORROWED_IN_CLASS[self.namespace] = borrowed
            return
        with self.cluster.errors(f"annotate namespace {self.namespace}"):
            self.cluster.core.patch_namespace(self.namespace, {"metadata": {"annotations": {
                BORROWED_ANNOTATION: json.dumps(borrowed)}}})

    def _remembered(self) -> list[dict[str, Any]]:
        if self.place.in_class:
            return list(_BORROWED_IN_CLASS.get(self.namespace, []))
        try:
            with self.cluster.errors(f"read namespace {self.namespace}"):
                annotations = self.cluster.core.read_namespace(self.namespace).metadata.annotations or {}
        except NotFound:
            return []
        borrowed: list[dict[str, Any]] = json.loads(annotations.get(BORROWED_ANNOTATION) or "[]")
        return borrowed

    def _forget(self) -> None:
        if self.place.in_class:
            _BORROWED_IN_CLASS.pop(self.namespace, None)
            return
        with self.cluster.errors(f"annotate namespace {self.namespace}"):
            self.cluster.core.patch_namespace(self.namespace, {"metadata": {"annotations": {BORROWED_ANNOTATION: None}}})

    def _exists(self, namespace: str) -> bool:
        try:
            with self.cluster.errors(f"read namespace {namespace}"):
                self.cluster.core.read_namespace(namespace)
        except NotFound:
            return False
        return True

    def _recreate(self, body: dict[str, Any], namespace: str, timeout: float = 20.0) -> None:
        """Applies a Service again; the port allocator may need a moment to free the port."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.cluster.apply([body], namespace)
                return
            except ApiError as error:
                if not isinstance(error, Invalid) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    # -- changing -------------------------------------------------------------
    def scale(self, name: str, replicas: int, kind: str = "Deployment") -> None:
        """Sets the replicas of a Deployment (or StatefulSet) and waits for exactly that many."""
        if kind not in WORKLOAD_KINDS or not isinstance(replicas, int) or replicas < 0:
            raise Invalid(f"scale {kind}/{name}", 422, f"the lessons scale a {' or '.join(WORKLOAD_KINDS)} "
                                                       "to a whole number of replicas, 0 or more")
        say("scale", "-n", self.namespace, f"{kind.lower()}/{name}", f"--replicas={replicas}")
        patch = self.cluster.apps.patch_namespaced_deployment_scale if kind == "Deployment" \
            else self.cluster.apps.patch_namespaced_stateful_set_scale
        with self.cluster.errors(f"scale {kind}/{name}"):
            patch(name, self.namespace, {"spec": {"replicas": replicas}})
        self.wait(f"{kind}/{name}")

    def delete_pod_and_watch(self, name: str, timeout: float = 90.0) -> None:
        """Deletes a pod and reports what its controller (if any) does about it."""
        with self.cluster.errors(f"read pod {name}"):
            pod = self.cluster.core.read_namespaced_pod(name, self.namespace)
        app, before = (pod.metadata.labels or {}).get("app"), pod.status.pod_ip
        say("delete", "pod", "-n", self.namespace, name)
        say("get", "pods", "-n", self.namespace, *(["-l", f"app={app}"] if app else []), "--watch")
        self._delete_quietly(self.cluster.core.delete_namespaced_pod, name, grace_period_seconds=1)
        print(f"deleted pod {name} (IP {before})")
        started = time.monotonic()
        with status_line("watching for a replacement") as show:
            while time.monotonic() - started < timeout:
                fresh = [p for p in self._pods(app) if pod_is_ready(p) and p.metadata.uid != pod.metadata.uid]
                if fresh:
                    break
                show("none ready yet")
                time.sleep(0.5)
        if fresh:
            print(f"replaced by {fresh[0].metadata.name} with IP {fresh[0].status.pod_ip}, "
                  f"ready after {time.monotonic() - started:.0f} s")
        else:
            print(f"nothing replaced {name} within {timeout:.0f} s: no controller owns it")

    def cleanup(self) -> None:
        """Gives back a node port this lesson took, then removes the namespace (alone) or
        clears it (in a class, where the namespace is the instructor's)."""
        self.give_back_node_port()
        if self.place.in_class:
            say("delete", CLEARED, "--all", "-n", self.namespace, "--grace-period=1")
            self.clear()
            print(f"namespace {self.namespace} cleared")
            return
        # Its objects first, with a short grace period, so that the namespace goes quickly
        # and a re-run of the lesson does not wait for it.
        say("delete", CLEARED, "--all", "-n", self.namespace, "--grace-period=1")
        self.clear()
        say("delete", "namespace", self.namespace, "--wait=false")
        self.cluster.delete_namespace(self.namespace, wait=0)
        print(f"namespace {self.namespace} deleted")


def _poll_host(url: str, patience: float) -> traffic.ProbeResult:
    kind = "redis" if not url.startswith("http") else "http"
    deadline = time.monotonic() + patience
    while True:
        result = traffic.from_host([(kind, url)], timeout=2.0, attempts=1)[0]
        if result.ok or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def _wait_host_not_reaching(space: Workspace, url: str, timeout: float = 15.0) -> None:
    """After another namespace's Service gave up the port: waits until kube-proxy has
    closed it, so that what answers next is this lesson's (or nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = traffic.from_host([("http", url)], timeout=1.0, attempts=1)[0]
        if not result.ok:
            return
        try:
            ip = json.loads(result.body).get("ip")
        except (ValueError, AttributeError):
            return
        if space.namespace_of(ip) == space.namespace:
            return
        time.sleep(0.5)


def from_host(url: str, patience: float = 10.0, cluster: Cluster | None = None) -> None:
    """Requests `url` from this machine, as your browser would, and says who answered
    (and from which namespace). Retries for up to `patience` seconds while nothing answers."""
    result = _poll_host(url, patience)
    if not result.ok:
        print(f"{url:<40} no answer: {result.failure.value if result.failure else result.error}")
        return
    try:
        answer = json.loads(result.body)
        tier, pod, ip = answer["tier"], answer["pod"], answer["ip"]
    except (ValueError, TypeError, KeyError):
        print(f"{url:<40} HTTP {result.status}: {result.body[:60]!r}")
        return
    namespace = None
    try:
        cluster = cluster or Cluster.connect()
        with cluster.errors("find the pod with IP " + str(ip)):
            pods = cluster.core.list_pod_for_all_namespaces(field_selector=f"status.podIP={ip}").items
        namespace = pods[0].metadata.namespace if pods else None
    except ApiError:
        pass
    print(f"{url:<40} HTTP {result.status}: {tier} pod {pod} answered"
          + (f" (namespace {namespace})" if namespace else ""))
