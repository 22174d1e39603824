"""Real traffic from inside the cluster: one probe pod per use, from the api image (it
has Python and is loaded on every provider), sleeping until told to probe, and removed
on exit whatever happened."""

from __future__ import annotations

import time
import uuid

from course.cluster import Cluster
from course.errors import ClusterUnavailable
from course.kube import client
from course.model import PROBE_IMAGE
from course.traffic import ProbeResult, ProbeSpec, run_batch

PROBE_LABEL = "firstapp.probe"
CLUSTER_DOMAIN = "cluster.local"


def search_domains(namespace: str) -> list[str]:
    """The DNS search path of a pod in `namespace` (the kubelet writes it to resolv.conf)."""
    return [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]


class ProbePod:
    """`with ProbePod(cluster, namespace) as probe: probe.http("http://api:8080/whoami")`"""

    def __init__(self, cluster: Cluster, namespace: str, timeout: float = 2.0, attempts: int = 3,
                 labels: dict[str, str] | None = None) -> None:
        """`labels`: more labels for the pod, so that NetworkPolicies can select it as a
        client (never a tier's `app` label: the pod would join that tier's Service)."""
        self.cluster, self.namespace = cluster, namespace
        self.labels = {**(labels or {}), PROBE_LABEL: "true"}
        self.timeout, self.attempts = timeout, attempts
        self.name = f"firstapp-probe-{uuid.uuid4().hex[:6]}"

    def __enter__(self) -> ProbePod:
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name=self.name, labels=self.labels),
            spec=client.V1PodSpec(
                restart_policy="Never", termination_grace_period_seconds=0,
                automount_service_account_token=False,
                # Pod Security's `restricted` profile: the probe needs no privilege at all.
                # The offline images name no USER, so the pod says which (nobody).
                security_context=client.V1PodSecurityContext(
                    run_as_non_root=True, run_as_user=65534, run_as_group=65534,
                    seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault")),
                containers=[client.V1Container(
                    name="probe", image=PROBE_IMAGE, image_pull_policy="IfNotPresent",
                    command=["python3", "-c", "import time; time.sleep(3600)"],
                    security_context=client.V1SecurityContext(
                        allow_privilege_escalation=False,
                        capabilities=client.V1Capabilities(drop=["ALL"])))]))
        with self.cluster.errors(f"create the probe pod in namespace {self.namespace}"):
            self.cluster.core.create_namespaced_pod(self.namespace, pod)
        try:
            self._wait_running()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_running(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cluster.errors(f"read the probe pod {self.namespace}/{self.name}"):
                pod = self.cluster.core.read_namespaced_pod(self.name, self.namespace)
            if pod.status.phase == "Running":
                return
            time.sleep(0.2)
        raise ClusterUnavailable(f"the probe pod {self.namespace}/{self.name} did not start in {timeout:.0f} s "
                                 f"(image {PROBE_IMAGE} loaded? `firstapp up` loads it)")

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.cluster.core.delete_namespaced_pod(self.name, self.namespace, grace_period_seconds=0)
        except Exception:  # noqa: BLE001 - already gone, or the cluster went away: nothing left to clean
            pass

    def batch(self, probes: list[ProbeSpec], attempts: int | None = None, as_if_in: str | None = None,
              via: Cluster | None = None) -> list[ProbeResult]:
        """Sends `probes` from this pod. `as_if_in`: resolve names as a pod of that
        namespace would (one probe pod can serve many namespaces: a class's collection
        starts one pod, not one per learner). `via`: the client to exec through (one per
        thread when threads share the pod)."""
        def run(command: list[str]) -> str:
            return (via or self.cluster).exec(self.namespace, self.name, command, timeout=self.timeout * 2 + 10)
        search = search_domains(as_if_in) if as_if_in and as_if_in != self.namespace else None
        return run_batch(run, probes, self.timeout, attempts or self.attempts, search=search)

    def http(self, url: str) -> ProbeResult:
        return self.batch([("http", url)])[0]

    def redis(self, host: str, port: int) -> ProbeResult:
        """Sends Redis' inline PING; a db that answers says +PONG in `body`."""
        return self.batch([("redis", f"{host}:{port}")])[0]

    def dns(self, name: str) -> ProbeResult:
        return self.batch([("dns", name)])[0]
