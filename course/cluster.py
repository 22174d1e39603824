"""A small Pythonic API over the Kubernetes client: the one way the CLI, the widgets,
the notebooks and the grader talk to a cluster.

Every failure leaves as a typed error from `course.errors`, mapped here and only here:
no kubeconfig, an unknown context or no answer is `ClusterUnavailable`; a refusal by
the API server is an `ApiError` (`Forbidden`, `NotFound`, ...) keeping its message.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from websocket import WebSocketException

from course.errors import ClusterUnavailable, Conflict, NotFound, UnusableInput, api_error
from course.kube import ApiException, ResourceNotFoundError, client, config, dynamic, stream
from course.place import WORKSPACES, class_namespace, learner_of

FIELD_MANAGER = "firstapp"


def kubeconfig_path() -> str:
    return (os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")).split(os.pathsep)[0]


def pod_is_ready(pod: Any) -> bool:
    """The pod's Ready condition is True (a `V1Pod`): what Services route by."""
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


@dataclass
class Cluster:
    context: str
    api: client.ApiClient
    default_namespace: str = "default"  # the context's namespace

    @classmethod
    def connect(cls, context: str | None = None, timeout: float = 5.0) -> Cluster:
        """The cluster of `context` (default: the current one), checked to answer."""
        path = kubeconfig_path()
        try:
            contexts, current = config.list_kube_config_contexts(config_file=path)
        except (config.ConfigException, OSError) as error:
            raise ClusterUnavailable(f"no usable kubeconfig at {path} ({error}); "
                                     "start the course's cluster with `firstapp up`") from error
        names = [c["name"] for c in contexts]
        chosen = context or (current or {}).get("name")
        if not isinstance(chosen, str) or chosen not in names:
            raise ClusterUnavailable(f"kubeconfig {path} has no context {chosen!r}; it has: {', '.join(names)}")
        try:
            api = config.new_client_from_config(config_file=path, context=chosen)
        except (config.ConfigException, OSError, ValueError) as error:
            raise ClusterUnavailable(f"context {chosen!r} in kubeconfig {path} is unusable: {error}") from error
        entry = next(c for c in contexts if c["name"] == chosen)
        cluster = cls(chosen, api, (entry.get("context") or {}).get("namespace") or "default")
        try:
            client.VersionApi(api).get_code(_request_timeout=timeout)
        except (urllib3.exceptions.HTTPError, OSError, ApiException) as error:
            reason = str(getattr(error, "reason", "") or error).splitlines()[0][:200]
            raise ClusterUnavailable(
                f"the cluster of context {chosen!r} (kubeconfig {path}, server {api.configuration.host}) "
                f"does not answer: {reason}; is it running? try `firstapp status`") from error
        return cluster

    def reconnect(self) -> Cluster:
        """A second client for the same context: the client's exec streams patch their
        ApiClient while they run, so one client cannot serve threads in parallel."""
        return Cluster.connect(self.context)

    @contextmanager
    def errors(self, action: str, hint: str = "") -> Iterator[None]:
        """Turns whatever the cluster does while trying to `action` into a typed error."""
        try:
            yield
        except ApiException as error:
            raise api_error(error, action, hint) from error
        except (urllib3.exceptions.HTTPError, OSError, WebSocketException) as error:
            raise ClusterUnavailable(f"the cluster of context {self.context} stopped answering while trying "
                                     f"to {action}: {error}") from error

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def discovery(self) -> client.DiscoveryV1Api:
        return client.DiscoveryV1Api(self.api)

    @property
    def networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        """Objects of CustomResourceDefinitions (the Gateway API's HTTPRoutes), as dicts."""
        return client.CustomObjectsApi(self.api)

    @functools.cached_property
    def _dynamic(self) -> dynamic.DynamicClient:
        return dynamic.DynamicClient(self.api)

    def resource(self, api_version: str, kind: str) -> Any:
        """The API's resource for a kind; `UnusableInput` naming it if the cluster has none
        (a misspelt kind, or one whose CRDs are not installed)."""
        try:
            with self.errors(f"look up kind {kind} in apiVersion {api_version}"):
                return self._dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError as error:
            raise UnusableInput(f"the cluster has no kind {kind!r} in apiVersion {api_version!r}; check both "
                                "spellings (`kubectl api-resources` lists the kinds, and a kind from a CRD needs "
                                "its CRD installed)") from error

    def whoami(self) -> str:
        """The user name the API server knows this client by (a SelfSubjectReview, which
        every authenticated user may create)."""
        with self.errors("ask the API server who this kubeconfig's user is"):
            review = client.AuthenticationV1Api(self.api).create_self_subject_review(
                client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
        name: str = review.status.user_info.username or ""
        return name

    def namespace_annotations(self, namespace: str) -> dict[str, str]:
        with self.errors(f"read namespace {namespace}"):
            annotations: dict[str, str] = self.core.read_namespace(namespace).metadata.annotations or {}
        return annotations

    def namespaces(self, selector: str) -> list[str]:
        with self.errors(f"list namespaces with label {selector}"):
            return sorted(n.metadata.name for n in self.core.list_namespace(label_selector=selector).items)

    def release_node_port(self, node_port: int, keep_namespace: str) -> list[str]:
        """Deletes the Services of other namespaces holding `node_port` (node ports are
        cluster-wide, and a learner's port serves one of their namespaces at a time);
        returns `namespace/name` of each one deleted. A learner of a class only ever
        frees it from their own namespaces."""
        learner = learner_of(self.whoami())
        released = []
        with self.errors(f"free node port {node_port}"):
            services = (self.core.list_service_for_all_namespaces().items if learner is None else
                        [s for workspace in WORKSPACES
                         for s in self.core.list_namespaced_service(class_namespace(learner, workspace)).items])
            for service in services:
                if service.metadata.namespace == keep_namespace:
                    continue
                if any(port.node_port == node_port for port in service.spec.ports or []):
                    self.core.delete_namespaced_service(service.metadata.name, service.metadata.namespace)
                    released.append(f"{service.metadata.namespace}/{service.metadata.name}")
        return released

    def ensure_namespace(self, namespace: str) -> None:
        """Creates `namespace`, or takes the one there, with Pod Security Admission enforcing
        the `baseline` profile: learners' pods are untrusted, and no privileged pod, host
        namespace or host path gets in."""
        labels = {"pod-security.kubernetes.io/enforce": "baseline"}
        try:
            with self.errors(f"create namespace {namespace}"):
                self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace,
                                                                                           labels=labels)))
        except Conflict:
            with self.errors(f"label namespace {namespace} for Pod Security Admission"):
                present = self.core.read_namespace(namespace).metadata.labels or {}
                if any(present.get(key) != value for key, value in labels.items()):
                    self.core.patch_namespace(namespace, {"metadata": {"labels": labels}})

    def delete_namespace(self, namespace: str, wait: float = 120.0) -> None:
        """Deletes `namespace` (gone already is fine) and waits up to `wait` s for it to go."""
        try:
            with self.errors(f"delete namespace {namespace}"):
                self.core.delete_namespace(namespace)
        except NotFound:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                with self.errors(f"read namespace {namespace}"):
                    self.core.read_namespace(namespace)
            except NotFound:
                return
            time.sleep(0.5)

    def apply(self, objects: Iterable[dict[str, Any]], namespace: str | None) -> list[str]:
        """Server-side apply every object into `namespace` (None: each object's own, or
        none for cluster-scoped objects); returns `Kind/name` of each.

        All objects are first sent as a dry run, so a rejected object leaves nothing
        half-applied."""
        objects = list(objects)
        for dry_run in ("All", None):
            for body in objects:
                ref = f"{body['kind']}/{body['metadata']['name']}"
                into = namespace if namespace is not None else body["metadata"].get("namespace")
                resource = self.resource(body["apiVersion"], body["kind"])
                with self.errors(f"apply {ref}"):
                    resource.server_side_apply(body=body, name=body["metadata"]["name"], namespace=into,
                                               field_manager=FIELD_MANAGER, force_conflicts=True, dry_run=dry_run)
        return [f"{b['kind']}/{b['metadata']['name']}" for b in objects]

    def exec(self, namespace: str, pod: str, command: list[str], timeout: float = 30.0) -> str:
        """Runs `command` in the pod's first container; returns what it printed."""
        with self.errors(f"run a command in pod {namespace}/{pod}"):
            output: str = stream(self.core.connect_get_namespaced_pod_exec, pod, namespace, command=command,
                                 stderr=True, stdout=True, stdin=False, tty=False, _request_timeout=timeout)
        return output

    def wait_available(self, namespace: str, workloads: Iterable[str], timeout: float = 180.0) -> None:
        """Waits until every `Deployment/x`, `StatefulSet/x` or `DaemonSet/x` has all its
        pods ready (a DaemonSet: one on each node it selects)."""
        deadline = time.monotonic() + timeout
        pending = list(workloads)
        while pending:
            kind, name = pending[0].split("/", 1)
            ready, wanted = self.ready_pods(kind, name, namespace)
            if wanted is not None and ready >= wanted:
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ClusterUnavailable(
                    f"{kind}/{name} in namespace {namespace}: {ready} of {wanted} pods "
                    f"ready after {timeout:.0f} s; see `kubectl -n {namespace} describe pods`")
            time.sleep(0.5)

    def ready_pods(self, kind: str, name: str, namespace: str) -> tuple[int, int | None]:
        """(ready and up-to-date pods, pods wanted; None while a DaemonSet has not yet
        counted its nodes) of one workload."""
        read = {"Deployment": self.apps.read_namespaced_deployment, "StatefulSet": self.apps.read_namespaced_stateful_set,
                "DaemonSet": self.apps.read_namespaced_daemon_set}[kind]
        with self.errors(f"read {kind}/{name}"):
            workload = read(name, namespace)
        status = workload.status
        if kind == "DaemonSet":
            counted = status.observed_generation is not None and status.desired_number_scheduled
            return (min(status.number_ready or 0, status.updated_number_scheduled or 0),
                    status.desired_number_scheduled if counted else None)
        return min(status.ready_replicas or 0, status.updated_replicas or 0), workload.spec.replicas or 0
