"""The local provider's scripts touch only what is the course's. With another network's
iptables chain, a chain of some other tool, a network namespace and a CNI result of
someone else's on the host, the real k8s/local/down.sh and up.sh leave them all in place,
down leaves nothing of the course's behind (processes, mounts, bridge, CNI results,
iptables rules), and the cluster comes back healthy. A cluster whose every component was
killed with SIGKILL comes back the same way, and an up.sh that fails half-way names the
component and its log and leaves nothing running. Every test leaves the cluster up."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.local_provider import (
    CACHE,
    COMPONENTS,
    LOCAL,
    RUN,
    STATE,
    alive,
    healthy,
    pid,
    running_local_cluster,
    script,
    sh,
)

pytestmark = pytest.mark.cluster

CNI_RESULTS = Path("/var/lib/cni/results")
KUBE_ROUTER_SETS = ("KUBE-SRC-", "KUBE-DST-")
KUBECTL = (str(CACHE / "bin" / "kubectl"), "--kubeconfig", str(STATE / "admin.kubeconfig"))
# What only the course's network has: its CNI network's comment, its bridge, its CIDRs.
OURS_IN_IPTABLES = re.compile(r'name: \\"firstapp\\"|\bfirstapp0\b|\b10\.244\.|\b10\.96\.|KUBE-')


def our_mounts() -> list[str]:
    prefixes = (f"{RUN}/", f"{STATE}/kubelet/", f"{STATE}/containerd/")
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [point for point in points if point.startswith(prefixes) or point == str(RUN)]


def our_shims() -> list[str]:
    return sh("pgrep", "-f", f"containerd-shim-runc-v2 .*-address {RUN}/containerd.sock", check=False).stdout.split()


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    """These tests drive the local provider's own scripts: they need root and that cluster
    up. They fail (never skip) without them, and leave the cluster up whatever happens."""
    yield from running_local_cluster("the local provider's cleanup tests")


@dataclass
class Foreign:
    cni_chain: str  # another CNI network's masquerade chain, in nat, jumped to from POSTROUTING
    netns: str
    cni_result: Path
    rules: tuple[tuple[str, ...], ...]  # (table, chain, rule...) of the jumps into the chains
    ipset: str  # another tool's ipset

    def check_present(self) -> None:
        for table, chain, *rule in self.rules:
            assert sh("iptables", "-w", "-t", table, "-C", chain, *rule, check=False).returncode == 0, \
                f"foreign rule {table} {chain} {rule} is gone"
        assert "othernet" in sh("iptables", "-w", "-t", "nat", "-S", self.cni_chain).stdout
        assert "-j RETURN" in sh("iptables", "-w", "-t", "filter", "-S", "FIRSTAPP-TEST-FOREIGN").stdout
        assert f"/run/netns/{self.netns}" in [line.split()[4] for line in
                                              Path("/proc/self/mountinfo").read_text().splitlines()]
        assert "10.244.0.250" in sh("ip", "-n", self.netns, "-o", "addr", "show", "lo").stdout
        assert json.loads(self.cni_result.read_text())["containerId"] == "foreign"
        assert "10.244.0.250" in sh("ipset", "list", self.ipset).stdout


@pytest.fixture
def foreign():
    """Someone else's state: a CNI-* chain of the network "othernet", a chain whose name even
    starts like ours, a network namespace cni-<uuid> made with `ip netns add` (which mounts
    /run/netns over itself) holding an address in our pod range, a cached CNI result, and
    an ipset holding an address in our pod range."""
    chain = f"CNI-{secrets.token_hex(8)}"
    tag = 'name: "othernet" id: "foreign"'
    rules = (("nat", "POSTROUTING", "-s", "10.99.0.5/32", "-m", "comment", "--comment", tag, "-j", chain),
             ("filter", "FORWARD", "-j", "FIRSTAPP-TEST-FOREIGN"))
    netns = f"cni-{uuid.uuid4()}"
    result = CNI_RESULTS / f"othernet-{secrets.token_hex(32)}-eth0"
    ipset = f"FIRSTAPP-TEST-{secrets.token_hex(4)}"
    try:
        sh("ipset", "create", ipset, "hash:ip")
        sh("ipset", "add", ipset, "10.244.0.250")
        sh("iptables", "-w", "-t", "nat", "-N", chain)
        sh("iptables", "-w", "-t", "nat", "-A", chain, "-d", "10.99.0.0/24", "-m", "comment", "--comment", tag,
           "-j", "ACCEPT")
        add_foreign_filter_rules(rules)
        sh("ip", "netns", "add", netns)
        sh("ip", "-n", netns, "addr", "add", "10.244.0.250/32", "dev", "lo")
        result.parent.mkdir(parents=True, exist_ok=True)
        result.write_text(json.dumps({"kind": "cniCacheV1", "containerId": "foreign", "ifName": "eth0",
                                      "networkName": "othernet"}))
        yield Foreign(chain, netns, result, rules, ipset)
    finally:
        for table, builtin, *rule in rules:
            sh("iptables", "-w", "-t", table, "-D", builtin, *rule, check=False)
        for table, name in (("nat", chain), ("filter", "FIRSTAPP-TEST-FOREIGN")):
            sh("iptables", "-w", "-t", table, "-F", name, check=False)
            sh("iptables", "-w", "-t", table, "-X", name, check=False)
        sh("ip", "netns", "delete", netns, check=False)
        result.unlink(missing_ok=True)
        sh("ipset", "destroy", ipset, check=False)


def add_foreign_filter_rules(rules: tuple[tuple[str, ...], ...]) -> None:
    """The chain FIRSTAPP-TEST-FOREIGN and the jumps of `rules`. kube-router rewrites the
    filter table from a snapshot at each of its syncs (iptables-save, then -restore), so
    a chain another tool makes while one runs can vanish (seen right after up.sh, when
    the pods' start sets off syncs); one made before a sync starts is kept. So: made
    again until it holds, as that other tool would have to (a README known risk)."""
    for _ in range(5):
        sh("iptables", "-w", "-t", "filter", "-N", "FIRSTAPP-TEST-FOREIGN", check=False)
        sh("iptables", "-w", "-t", "filter", "-F", "FIRSTAPP-TEST-FOREIGN", check=False)
        sh("iptables", "-w", "-t", "filter", "-A", "FIRSTAPP-TEST-FOREIGN", "-j", "RETURN", check=False)
        for table, builtin, *rule in rules:
            if sh("iptables", "-w", "-t", table, "-C", builtin, *rule, check=False).returncode != 0:
                sh("iptables", "-w", "-t", table, "-A", builtin, *rule, check=False)
        time.sleep(1)
        if all(sh("iptables", "-w", "-t", table, "-C", builtin, *rule, check=False).returncode == 0
               for table, builtin, *rule in rules):
            return
    pytest.fail("the foreign chain FIRSTAPP-TEST-FOREIGN keeps vanishing from the filter table")


def assert_nothing_of_ours_is_left() -> None:
    running = [c for c in COMPONENTS if pid(c) and alive(pid(c))]
    assert running == [], f"still running: {running}"
    assert our_shims() == []
    assert our_mounts() == []
    assert sh("ip", "link", "show", "firstapp0", check=False).returncode != 0, "the bridge firstapp0 is left"
    assert sorted(CNI_RESULTS.glob("firstapp-*")) == []
    for command in ("iptables-save", "ip6tables-save"):
        left = [line for line in sh(command).stdout.splitlines() if OURS_IN_IPTABLES.search(line)]
        assert left == [], f"{command}: rules or chains of the cluster are left: {left}"
    sets = [name for name in sh("ipset", "list", "-n").stdout.split() if name.startswith(KUBE_ROUTER_SETS)]
    assert sets == [], f"kube-router's ipsets are left: {sets}"
    assert "firstapp0" not in sh("ip", "rule", "show").stdout, "up.sh's routing rule for Services is left"


@pytest.fixture
def isolated():
    """A pod isolated by a NetworkPolicy, so that kube-router has chains and ipsets of
    the policy when down.sh runs (its sets exist only while a policy selects pods)."""
    namespace = f"test-cleanup-{secrets.token_hex(4)}"
    sh(*KUBECTL, "create", "namespace", namespace)
    sh(*KUBECTL, "-n", namespace, "run", "isolated", "--image=firstapp/api:1.0", "--image-pull-policy=IfNotPresent",
       "--labels=app=api")
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    subprocess.run([*KUBECTL, "-n", namespace, "apply", "-f", "-"], input=json.dumps(policy), check=True,
                   capture_output=True, text=True)
    sh(*KUBECTL, "-n", namespace, "wait", "--for=condition=Ready", "pod/isolated", "--timeout=120s")
    deadline = time.monotonic() + 60
    while not any(name.startswith(KUBE_ROUTER_SETS) for name in sh("ipset", "list", "-n").stdout.split()):
        assert time.monotonic() < deadline, "kube-router made no ipset for the policy in 60 s"
        time.sleep(0.5)
    yield namespace
    sh(*KUBECTL, "delete", "namespace", namespace, "--wait=false", check=False)


def host_netns() -> set[str]:
    return {path.name for path in Path("/run/netns").glob("*")}


def test_down_and_up_leave_foreign_chains_netns_and_cni_results_alone(foreign, isolated):
    foreign.check_present()
    netns_before = host_netns()
    # Our own mounts hidden under a later mount: the run directory bind-mounted onto itself.
    sh("mount", "--bind", str(RUN), str(RUN))
    try:
        down = script("down.sh")
    finally:
        while str(RUN) in [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]:
            if sh("umount", str(RUN), check=False).returncode != 0:
                break
    foreign.check_present()
    assert_nothing_of_ours_is_left()
    again = time.monotonic()
    script("down.sh")  # a stopped cluster: nothing to do, and no error
    assert time.monotonic() - again < 30
    up = script("up.sh")
    assert healthy()
    foreign.check_present()
    # The pods' network namespaces are the course's own, under its run directory.
    sandboxes = list((RUN / "containerd" / "io.containerd.grpc.v1.cri" / "netns").glob("cni-*"))
    assert sandboxes, "CoreDNS's pods have no network namespace under the run directory"
    assert host_netns() == netns_before
    print(f"down {down:.1f} s, up {up:.1f} s", file=sys.stderr)


def test_a_cluster_killed_with_sigkill_comes_back_and_leaves_no_shims(foreign):
    shims = our_shims()
    assert shims, "the running cluster has no pods (CoreDNS)"
    mounts = our_mounts()
    for component in COMPONENTS:
        process = pid(component)
        assert process, f"{component} has no pid file"
        os.kill(process, 9)
    for component in COMPONENTS:
        deadline = time.monotonic() + 10
        while alive(pid(component)) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert all(alive(int(shim)) for shim in shims), "killing the components should leave the pods' shims"
    script("up.sh")  # clears what the dead run left (down.sh, cleanup.sh), then starts afresh
    assert healthy()
    assert not any(alive(int(shim)) for shim in shims), "the dead run's pods still run"
    netns = [m for m in mounts if "/netns/" in m]
    assert netns and not set(netns) & set(our_mounts()), "the dead run's pod network namespaces are left"
    foreign.check_present()


def test_a_failing_up_names_the_component_and_its_log_and_leaves_nothing_running():
    script("down.sh")
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        blocker.bind(("127.0.0.1", 2380))  # etcd's peer port: etcd cannot start
        blocker.listen()
        done = subprocess.run(["bash", str(LOCAL / "up.sh")], capture_output=True, text=True, timeout=600)
        assert done.returncode != 0
        assert f"etcd exited while starting; its log is {STATE}/logs/etcd.log" in done.stderr
        assert f"failed at step 'etcd'; see {STATE}/logs/etcd.log" in done.stderr.splitlines()[-1]
        assert [c for c in COMPONENTS if pid(c) and alive(pid(c))] == []
        assert our_shims() == [] and our_mounts() == []
    finally:
        blocker.close()
    script("up.sh")
    assert healthy()
