"""What a learner or an instructor waits for when checkpoint 4 is graded live, on a warm
cluster: `firstapp grade checkpoint-4` on the reference solution as a whole process
(reading the namespace, the truth table's probes from inside the tiers' pods and a probe
pod, the host's probe through the ingress controller), and, in one process, the truth
table alone. Deploys the reference into a namespace of its own, runs N times, prints
each run, the medians and the machine.

    .venv/bin/python benchmarks/checkpoint4.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

from course.cluster import Cluster
from course.paths import course_home
from grader import observe
from grader.loading import load_path
from grader.submission import Submission

REFERENCE = course_home() / "k8s" / "reference" / "checkpoint-4.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cluster = Cluster.connect()
    namespace = f"bench-cp4-{uuid.uuid4().hex[:6]}"
    cluster.ensure_namespace(namespace)
    docs = [d for d in yaml.safe_load_all(REFERENCE.read_text()) if d]
    firstapp = str(Path(sys.executable).with_name("firstapp"))
    whole, table, probes = [], [], 0
    try:
        cluster.apply(docs, namespace)
        cluster.wait_available(namespace, ["Deployment/web", "Deployment/api", "StatefulSet/db"], timeout=180)
        submission = Submission(load_path(REFERENCE), services_only=False)
        for _ in range(runs):
            started = time.monotonic()
            run = subprocess.run([firstapp, "grade", "checkpoint-4", "--namespace", namespace, "--manifests",
                                  str(REFERENCE), "--format", "json"], capture_output=True, text=True)
            whole.append(time.monotonic() - started)
            if run.returncode != 0:
                raise SystemExit(f"the reference did not score full marks:\n{run.stdout}{run.stderr}")
            live = observe.collect(cluster, namespace, networking=True)
            started = time.monotonic()
            observe.probe_connectivity(cluster, live, submission)
            table.append(time.monotonic() - started)
            probes = len([c for c in live.connectivity if c.observed is not None])
            print(f"firstapp grade checkpoint-4: {whole[-1]:.2f} s; truth table ({probes} probes): {table[-1]:.2f} s",
                  flush=True)
    finally:  # the Ingress first: a terminating namespace keeps its claim on firstapp.localhost a while
        cluster.networking.delete_collection_namespaced_ingress(namespace)
        cluster.delete_namespace(namespace, wait=0)
    print(f"machine: {platform.node()}, {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
          f"load average {os.getloadavg()[0]:.1f}; context {cluster.context}")
    print(f"median over {runs} runs: firstapp grade checkpoint-4 (whole process) {statistics.median(whole):.2f} s; "
          f"truth table of {probes} probes {statistics.median(table):.2f} s")


if __name__ == "__main__":
    main()
