"""The local cluster keeps the machine's other users out, proven on the running cluster:
etcd refuses any client without a certificate of its own CA (tried as the user nobody,
who cannot read the certificates either); the course's namespaces refuse privileged pods
(Pod Security Admission, baseline) while the probe pod runs even under `restricted`;
down.sh sets route_localnet back to what it was before up.sh, keeps the guard rule in
place while the cluster runs, and signals no process that a stale pid file names. Every
test leaves the cluster up."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from course.cluster import Cluster
from course.errors import Forbidden
from course.probe import ProbePod
from tests.cluster.local_provider import RUN, STATE, healthy, running_local_cluster, script, sh

pytestmark = pytest.mark.cluster

PKI = STATE / "pki"
AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
ROUTE_LOCALNET = Path("/proc/sys/net/ipv4/conf/all/route_localnet")
# kube-proxy's rule in KUBE-FIREWALL (filter), as iptables-save prints it.
GUARD = ('! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" '
         '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP')


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    yield from running_local_cluster("the local cluster's security tests")


def curl(*args: str, user: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*user, "curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True,
                          timeout=30)


def etcd_range(key: str) -> tuple[str, ...]:
    """curl arguments reading KEY through etcd's JSON gateway."""
    return ("-X", "POST", "-d", json.dumps({"key": base64.b64encode(key.encode()).decode()}),
            "https://127.0.0.1:2379/v3/kv/range")


def test_etcd_refuses_a_local_user_without_a_client_certificate():
    # The API server's client certificate reads the registry: what is refused below, etcd refuses.
    apiserver = curl("--cacert", str(PKI / "etcd-ca.crt"), "--cert", str(PKI / "apiserver-etcd-client.crt"),
                     "--key", str(PKI / "apiserver-etcd-client.key"), *etcd_range("/registry/namespaces/default"))
    assert apiserver.returncode == 0 and json.loads(apiserver.stdout).get("kvs"), apiserver.stderr

    tries = {
        "TLS, no certificate": ("-k", *etcd_range("/registry/namespaces/default")),
        "plain HTTP": ("-X", "POST", "-d", "{}", "http://127.0.0.1:2379/v3/kv/range"),
        "a write": ("-k", "-X", "POST", "-d", '{"key": "L3g=", "value": "eA=="}', "https://127.0.0.1:2379/v3/kv/put"),
        "the peer port": ("-k", "https://127.0.0.1:2380/members"),
        "the peer port, plain HTTP": ("http://127.0.0.1:2380/members",),
    }
    for what, args in tries.items():
        done = curl(*args, user=AS_NOBODY)
        assert done.returncode != 0 and "kvs" not in done.stdout and "header" not in done.stdout, \
            f"etcd answered nobody ({what}): {done.stdout}"
    # nobody cannot read a certificate or key; the cluster CA's certificates (admin's) open no etcd.
    for path in (PKI, PKI / "apiserver-etcd-client.key", PKI / "etcd-ca.key", PKI / "ca.key"):
        assert sh(*AS_NOBODY, "cat" if path.suffix else "ls", str(path), check=False).returncode != 0, path
    admin = curl("-k", "--cert", str(PKI / "admin.crt"), "--key", str(PKI / "admin.key"),
                 *etcd_range("/registry/namespaces/default"))
    assert admin.returncode != 0 and "kvs" not in admin.stdout
    # The plain-HTTP listener serves health and metrics only: no keys.
    assert curl("http://127.0.0.1:2381/health", user=AS_NOBODY).stdout.startswith('{"health":"true"')
    metrics = curl("http://127.0.0.1:2381/metrics", user=AS_NOBODY).stdout
    assert "etcd_server_has_leader" in metrics and "/registry" not in metrics
    assert curl("-f", "-X", "POST", "-d", "{}", "http://127.0.0.1:2381/v3/kv/range", user=AS_NOBODY).returncode != 0


def bare_pod(name: str, **spec) -> dict:
    container = {"name": "main", "image": "firstapp/api:1.0", "imagePullPolicy": "IfNotPresent",
                 **spec.pop("container", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container], **spec}}


def test_a_course_namespace_refuses_privileged_pods(cluster: Cluster, namespace: str):
    labels = cluster.core.read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    hostile = [bare_pod("privileged", container={"securityContext": {"privileged": True}}),
               bare_pod("host-network", hostNetwork=True),
               bare_pod("host-path", volumes=[{"name": "root", "hostPath": {"path": "/"}}],
                        container={"volumeMounts": [{"name": "root", "mountPath": "/host"}]})]
    for pod in hostile:
        with pytest.raises(Forbidden, match="violates PodSecurity"):
            cluster.apply([pod], namespace)
    assert cluster.core.list_namespaced_pod(namespace).items == []
    cluster.apply([bare_pod("plain", container={"command": ["sleep", "1"]})], namespace)  # baseline: fine


def test_an_existing_namespace_gets_the_pod_security_label(cluster: Cluster):
    name = f"test-{uuid.uuid4().hex[:8]}"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"a": "b"})))
    try:
        cluster.ensure_namespace(name)
        labels = cluster.core.read_namespace(name).metadata.labels
        assert labels["a"] == "b" and labels["pod-security.kubernetes.io/enforce"] == "baseline"
    finally:
        cluster.delete_namespace(name, wait=0)


def test_the_probe_pod_probes_under_the_restricted_profile(cluster: Cluster):
    name = f"test-{uuid.uuid4().hex[:8]}"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted"})))
    try:
        with ProbePod(cluster, name) as probe:
            answer = probe.dns("kubernetes.default.svc.cluster.local")
            assert answer.ok and answer.addresses == ("10.96.0.1",), answer.error
            ids = cluster.exec(name, probe.name, ["python3", "-c", "import os; print(os.getuid(), os.getgid())"])
            assert ids.split() == ["65534", "65534"]
    finally:
        cluster.delete_namespace(name, wait=0)


def localnet() -> str:
    return ROUTE_LOCALNET.read_text().strip()


def guard_rules() -> tuple[int, int, int]:
    """How many times the guard rule is in KUBE-FIREWALL, and the jumps to it from INPUT, OUTPUT."""
    lines = sh("iptables-save", "-t", "filter").stdout.splitlines()
    return (lines.count(f"-A KUBE-FIREWALL {GUARD}"), lines.count("-A INPUT -j KUBE-FIREWALL"),
            lines.count("-A OUTPUT -j KUBE-FIREWALL"))


@pytest.fixture
def strangers():
    """Processes that are not the cluster's: nobody's calling itself etcd, root's sleep,
    and root's calling itself containerd (with another command line than up.sh's)."""
    commands = {"etcd": [*AS_NOBODY, "bash", "-c", "exec -a etcd sleep 300"],
                "kube-apiserver": ["sleep", "300"],
                "containerd": ["bash", "-c", "exec -a containerd sleep 300"]}
    processes = {name: subprocess.Popen(command) for name, command in commands.items()}
    time.sleep(0.5)
    yield processes
    for process in processes.values():
        process.kill()
        process.wait()


def test_down_restores_route_localnet_and_signals_no_stranger(strangers):
    before = (RUN / "route_localnet.before").read_text().strip()
    assert localnet() == "1"
    assert guard_rules() == (1, 1, 1), "kube-proxy's localnet guard is missing or doubled while the cluster runs"

    script("down.sh")
    assert localnet() == before, f"route_localnet is {localnet()} after down, {before} before up"
    assert not (RUN / "route_localnet.before").exists()
    assert guard_rules() == (0, 0, 0)

    # Stale pid files naming other processes: down.sh (on a stopped cluster) leaves them running.
    for name, process in strangers.items():
        (RUN / f"{name}.pid").write_text(f"{process.pid}\n")
    # containerd.cmdline as up.sh writes it, for this pid: another command line than the stranger's.
    (RUN / "containerd.cmdline").write_bytes(f"{strangers['containerd'].pid}\0containerd\0--config\0x.toml\0".encode())
    script("down.sh")
    for name, process in strangers.items():
        assert process.poll() is None, f"down.sh signalled a stranger's process through {name}.pid"
    assert not any((RUN / f"{name}.pid").exists() for name in strangers)

    script("up.sh")
    assert healthy()
    assert localnet() == "1" and (RUN / "route_localnet.before").read_text().strip() == before
    assert guard_rules() == (1, 1, 1)
