"""A small Pythonic API over the Kubernetes client: the one way the CLI, the widgets,
the notebooks and the grader talk to a cluster.

Errors the learner can act on (no kubeconfig, unknown context, cluster unreachable,
forbidden) become `ClusterUnavailable` with the kubeconfig and context named.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import urllib3
from kubernetes import client, config, dynamic
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from grader.errors import UnusableInput

FIELD_MANAGER = "firstapp"


class ClusterUnavailable(UnusableInput):
    """No cluster to talk to, or not allowed to: exit status 2 at the CLI."""


def kubeconfig_path() -> str:
    return (os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")).split(os.pathsep)[0]


@dataclass
class Cluster:
    context: str
    api: client.ApiClient
    default_namespace: str = "default"  # the context's namespace

    @classmethod
    def connect(cls, context: str | None = None, timeout: float = 5.0) -> "Cluster":
        """The cluster of `context` (default: the current one), checked to answer."""
        path = kubeconfig_path()
        try:
            contexts, current = config.list_kube_config_contexts(config_file=path)
        except (config.ConfigException, FileNotFoundError, OSError) as error:
            raise ClusterUnavailable(f"no usable kubeconfig at {path} ({error}); "
                                     "start the course's cluster with `firstapp up`") from None
        names = [c["name"] for c in contexts]
        chosen = context or (current or {}).get("name")
        if chosen not in names:
            raise ClusterUnavailable(f"kubeconfig {path} has no context {chosen!r}; it has: {', '.join(names)}")
        try:
            api = config.new_client_from_config(config_file=path, context=chosen)
        except (config.ConfigException, OSError, ValueError) as error:
            raise ClusterUnavailable(f"context {chosen!r} in kubeconfig {path} is unusable: {error}") from None
        entry = next(c for c in contexts if c["name"] == chosen)
        cluster = cls(chosen, api, (entry.get("context") or {}).get("namespace") or "default")
        try:
            client.VersionApi(api).get_code(_request_timeout=timeout)
        except (urllib3.exceptions.HTTPError, OSError, ApiException) as error:
            raise ClusterUnavailable(
                f"the cluster of context {chosen!r} (kubeconfig {path}, server {api.configuration.host}) "
                f"does not answer: {_reason(error)}; is it running? try `firstapp status`") from None
        return cluster

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def discovery(self) -> client.DiscoveryV1Api:
        return client.DiscoveryV1Api(self.api)

    @functools.cached_property
    def _dynamic(self) -> dynamic.DynamicClient:
        return dynamic.DynamicClient(self.api)

    def namespaces(self, selector: str) -> list[str]:
        try:
            return sorted(n.metadata.name for n in self.core.list_namespace(label_selector=selector).items)
        except ApiException as error:
            raise _translated(error, f"list namespaces with label {selector}") from None

    def release_node_port(self, node_port: int, keep_namespace: str) -> list[str]:
        """Deletes the Services of other namespaces holding `node_port` (node ports are
        cluster-wide, and the course's 30080 serves one namespace at a time); returns
        `namespace/name` of each one deleted."""
        released = []
        for service in self.core.list_service_for_all_namespaces().items:
            if service.metadata.namespace == keep_namespace:
                continue
            if any(port.node_port == node_port for port in service.spec.ports or []):
                self.core.delete_namespaced_service(service.metadata.name, service.metadata.namespace)
                released.append(f"{service.metadata.namespace}/{service.metadata.name}")
        return released

    def ensure_namespace(self, namespace: str) -> None:
        try:
            self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        except ApiException as error:
            if error.status != 409:
                raise _translated(error, f"create namespace {namespace}") from None

    def delete_namespace(self, namespace: str, wait: float = 120.0) -> None:
        try:
            self.core.delete_namespace(namespace)
        except ApiException as error:
            if error.status == 404:
                return
            raise _translated(error, f"delete namespace {namespace}") from None
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                self.core.read_namespace(namespace)
            except ApiException as error:
                if error.status == 404:
                    return
            time.sleep(0.5)

    def apply(self, objects: Iterable[dict[str, Any]], namespace: str) -> list[str]:
        """Server-side apply every object into `namespace`; returns `Kind/name` of each.

        All objects are first sent as a dry run, so a rejected object leaves nothing
        half-applied."""
        objects = list(objects)
        for dry_run in ("All", None):
            for body in objects:
                resource = self._dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
                try:
                    resource.server_side_apply(body=body, name=body["metadata"]["name"], namespace=namespace,
                                               field_manager=FIELD_MANAGER, force_conflicts=True, dry_run=dry_run)
                except ApiException as error:
                    raise _translated(error, f"apply {body['kind']}/{body['metadata']['name']}") from None
        return [f"{b['kind']}/{b['metadata']['name']}" for b in objects]

    def exec(self, namespace: str, pod: str, command: list[str], timeout: float = 30.0) -> str:
        """Runs `command` in the pod's first container; returns what it printed."""
        return stream(self.core.connect_get_namespaced_pod_exec, pod, namespace, command=command,
                      stderr=True, stdout=True, stdin=False, tty=False, _request_timeout=timeout)

    def wait_available(self, namespace: str, workloads: Iterable[str], timeout: float = 180.0) -> None:
        """Waits until every `Deployment/x` or `StatefulSet/x` has all its replicas ready."""
        deadline = time.monotonic() + timeout
        pending = list(workloads)
        while pending:
            kind, name = pending[0].split("/", 1)
            read = self.apps.read_namespaced_deployment if kind == "Deployment" else self.apps.read_namespaced_stateful_set
            try:
                workload = read(name, namespace)
            except ApiException as error:
                raise _translated(error, f"read {kind}/{name}") from None
            status, wanted = workload.status, workload.spec.replicas
            if (status.ready_replicas or 0) >= (wanted or 0) and (status.updated_replicas or 0) >= (wanted or 0):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ClusterUnavailable(
                    f"{kind}/{name} in namespace {namespace}: {status.ready_replicas or 0} of {wanted} replicas "
                    f"ready after {timeout:.0f} s; see `kubectl -n {namespace} describe pods`")
            time.sleep(0.5)


def _reason(error: Exception) -> str:
    text = str(getattr(error, "reason", "") or error)
    return text.splitlines()[0][:200]


def _translated(error: ApiException, action: str) -> Exception:
    if error.status == 403:
        return ClusterUnavailable(f"forbidden to {action}: the user of this context lacks that permission")
    message = error.reason
    try:
        message = json.loads(error.body).get("message", message)
    except (TypeError, ValueError):
        pass
    return ClusterUnavailable(f"cannot {action}: {message}")
