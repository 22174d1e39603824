"""The cluster behaves like a real one, proven with real traffic: controllers, Services
and EndpointSlices, NodePort from the host, ClusterIP and DNS from a pod, hairpin
traffic, self-healing and readiness."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from course.probe import ProbePod

pytestmark = pytest.mark.cluster

WEB_IMAGE = "firstapp/web:1.0"


def deployment(name: str, replicas: int = 1, readiness: dict | None = None) -> dict:
    container = {"name": name, "image": WEB_IMAGE, "imagePullPolicy": "IfNotPresent",
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
    if readiness:
        container["readinessProbe"] = readiness
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 1, "containers": [container]}}}}


def service(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
                     **spec}}


def wait_until(condition, timeout: float = 60.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def ready_endpoints(cluster, namespace: str, service_name: str) -> list[str]:
    slices = cluster.discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service_name}").items
    return sorted(address for s in slices for e in (s.endpoints or [])
                  if e.conditions and e.conditions.ready for address in e.addresses)


def pod_ips(cluster, namespace: str, app: str) -> list[str]:
    pods = cluster.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return sorted(p.status.pod_ip for p in pods if p.status.pod_ip and p.metadata.deletion_timestamp is None)


def test_node_is_ready_and_runs_v1_34(cluster):
    nodes = cluster.core.list_node().items
    assert len(nodes) >= 1
    node = nodes[0]
    ready = next(c.status for c in node.status.conditions if c.type == "Ready")
    assert ready == "True"
    assert node.status.node_info.kubelet_version.startswith("v1.34.")


def test_deployment_gets_ready_pods_and_service_gets_endpointslices(cluster, namespace):
    cluster.apply([deployment("hello", replicas=2), service("hello")], namespace)
    cluster.wait_available(namespace, ["Deployment/hello"], timeout=120)
    ips = pod_ips(cluster, namespace, "hello")
    assert len(ips) == 2
    assert wait_until(lambda: ready_endpoints(cluster, namespace, "hello") == ips), \
        f"EndpointSlices {ready_endpoints(cluster, namespace, 'hello')} != pods {ips}"


def test_clusterip_dns_and_hairpin_from_pods(cluster, namespace):
    cluster.apply([deployment("hello"), service("hello"), deployment("other"),
                   service("headless", clusterIP="None", selector={"app": "other"})], namespace)
    cluster.wait_available(namespace, ["Deployment/hello", "Deployment/other"], timeout=120)
    cluster_ip = cluster.core.read_namespaced_service("hello", namespace).spec.cluster_ip
    with ProbePod(cluster, namespace) as probe:
        for url in (f"http://{cluster_ip}:8080/whoami", "http://hello:8080/whoami",
                    f"http://hello.{namespace}:8080/whoami",
                    f"http://hello.{namespace}.svc.cluster.local:8080/whoami"):
            answer = probe.http(url)
            assert answer.ok and answer.status == 200, f"{url}: {answer.error}"
            assert answer.json()["tier"] == "web"
        assert probe.dns(f"hello.{namespace}.svc.cluster.local").addresses == (cluster_ip,)
        assert probe.dns(f"headless.{namespace}.svc.cluster.local").addresses == \
            tuple(pod_ips(cluster, namespace, "other"))
        assert not probe.dns(f"nothing-here.{namespace}.svc.cluster.local").ok
    # Hairpin: a pod reaching itself through its own Service.
    hello_pod = cluster.core.list_namespaced_pod(namespace, label_selector="app=hello").items[0].metadata.name
    output = cluster.exec(namespace, hello_pod, ["python3", "-c", "import urllib.request as u; print(u.urlopen("
                                                 "'http://hello:8080/whoami', timeout=5).read().decode())"])
    assert json.loads(output.strip().splitlines()[-1])["pod"] == hello_pod


def host_get_json(url: str, timeout: float = 20.0):
    """GET from the host, retried while kube-proxy catches up with new endpoints."""
    def answer():
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return json.load(response)
        except OSError:
            return None
    return wait_until(answer, timeout=timeout) or {}


def test_clusterip_answers_from_the_host(cluster, namespace):
    cluster.apply([deployment("hello"), service("hello")], namespace)
    cluster.wait_available(namespace, ["Deployment/hello"], timeout=120)
    cluster_ip = cluster.core.read_namespaced_service("hello", namespace).spec.cluster_ip
    assert host_get_json(f"http://{cluster_ip}:8080/whoami").get("tier") == "web"


def test_nodeport_answers_from_the_host_on_localhost(cluster, namespace):
    cluster.apply([deployment("hello"), service("hello", type="NodePort")], namespace)
    cluster.wait_available(namespace, ["Deployment/hello"], timeout=120)
    node_port = cluster.core.read_namespaced_service("hello", namespace).spec.ports[0].node_port
    assert host_get_json(f"http://localhost:{node_port}/whoami").get("tier") == "web"


def test_deleted_pod_is_replaced(cluster, namespace):
    cluster.apply([deployment("hello")], namespace)
    cluster.wait_available(namespace, ["Deployment/hello"], timeout=120)
    victim = cluster.core.list_namespaced_pod(namespace, label_selector="app=hello").items[0].metadata.name
    cluster.core.delete_namespaced_pod(victim, namespace, grace_period_seconds=0)

    def replaced():
        pods = cluster.core.list_namespaced_pod(namespace, label_selector="app=hello").items
        return [p.metadata.name for p in pods if p.metadata.name != victim and p.status.phase == "Running"]
    assert wait_until(replaced, timeout=60)
    cluster.wait_available(namespace, ["Deployment/hello"], timeout=60)


def test_failing_readiness_probe_removes_pod_from_endpointslices(cluster, namespace):
    ready_file = {"exec": {"command": ["python3", "-c", "import os,sys; sys.exit(not os.path.exists('/tmp/ready'))"]},
                  "periodSeconds": 1, "failureThreshold": 1}
    cluster.apply([deployment("hello", readiness=ready_file), service("hello")], namespace)
    pod = wait_until(lambda: cluster.core.list_namespaced_pod(namespace, label_selector="app=hello").items, 60)[0]
    name = pod.metadata.name

    def touch(create: bool):
        code = "open('/tmp/ready','w')" if create else "import os; os.remove('/tmp/ready')"
        wait_until(lambda: cluster.core.read_namespaced_pod(name, namespace).status.phase == "Running", 60)
        cluster.exec(namespace, name, ["python3", "-c", code])

    assert ready_endpoints(cluster, namespace, "hello") == []
    touch(True)
    ip = wait_until(lambda: ready_endpoints(cluster, namespace, "hello"), 30)
    assert ip == pod_ips(cluster, namespace, "hello")
    touch(False)
    assert wait_until(lambda: ready_endpoints(cluster, namespace, "hello") == [], 30)
