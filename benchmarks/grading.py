"""Times live grading of checkpoint 3 on a warm cluster: one learner (with where the
time goes) and a class of N learner namespaces graded concurrently. Deploys the
reference solution into namespaces bench-*, and deletes them at the end.

    .venv/bin/python benchmarks/grading.py [--runs 5] [--class-size 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from course.cluster import Cluster
from course.probe import ProbePod
from course.traffic import from_host
from firstapp.sample_app import reference_objects
from grader import observe, routing
from grader.batch import grade_namespaces
from grader.run import grade_live

LABEL_KEY = "firstapp-benchmark"


def reference(node_port: bool) -> list[dict]:
    docs = reference_objects("checkpoint-3")
    if not node_port:  # node port 30080 serves one namespace; the class's other webs stay internal
        for doc in docs:
            if doc["kind"] == "Service" and doc["metadata"]["name"] == "web":
                doc["spec"]["type"] = "ClusterIP"
                doc["spec"]["ports"][0].pop("nodePort")
    return docs


def deploy(cluster: Cluster, namespace: str, node_port: bool, label: str) -> None:
    cluster.ensure_namespace(namespace)
    cluster.core.patch_namespace(namespace, {"metadata": {"labels": {LABEL_KEY: label}}})
    if node_port:
        cluster.release_node_port(30080, keep_namespace=namespace)
    cluster.apply(reference(node_port), namespace)


def phases(cluster: Cluster, namespace: str) -> dict[str, float]:
    """One grading run split into its parts, timed separately."""
    timings = {}
    started = time.perf_counter()
    live = observe.collect(cluster, namespace)
    timings["read objects, pods, EndpointSlices"] = time.perf_counter() - started
    plan = routing.plan(live)
    inside = [p for p in plan if p.kind and p.route.source == routing.IN_CLUSTER]
    started = time.perf_counter()
    with ProbePod(cluster, namespace, attempts=2) as pod:
        timings["probe pod start"] = time.perf_counter() - started
        started = time.perf_counter()
        pod.batch([(p.kind, p.address) for p in inside])
        timings[f"{len(inside)} in-cluster probes (one exec)"] = time.perf_counter() - started
        started = time.perf_counter()
    timings["probe pod removal"] = time.perf_counter() - started
    outside = [p for p in plan if p.kind and p.route.source == routing.HOST]
    started = time.perf_counter()
    from_host([(p.kind, p.address) for p in outside])
    timings[f"{len(outside)} host probes"] = time.perf_counter() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    cluster = Cluster.connect()
    label = str(int(time.time()))
    namespaces = [f"bench-{i:02d}" for i in range(args.class_size)]
    try:
        for index, namespace in enumerate(namespaces):
            deploy(cluster, namespace, node_port=index == 0, label=label)
        for namespace in namespaces:
            cluster.wait_available(namespace, ["Deployment/web", "Deployment/api", "StatefulSet/db"], timeout=600)
        singles = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = grade_live("checkpoint-3", namespaces[0], cluster=cluster)
            singles.append(time.perf_counter() - started)
            assert result.score == result.max_score, result.summary()
        print(f"one learner, checkpoint-3, all layers: median {statistics.median(singles):.2f} s "
              f"of {', '.join(f'{s:.2f}' for s in singles)}")
        for name, seconds in phases(cluster, namespaces[0]).items():
            print(f"    {name:<40} {seconds:.2f} s")
        batches = []
        for _ in range(max(1, args.runs // 2)):
            started = time.perf_counter()
            results = grade_namespaces("checkpoint-3", f"{LABEL_KEY}={label}")
            batches.append(time.perf_counter() - started)
            assert len(results) == len(namespaces) and all(not isinstance(r, str) for r in results.values())
        print(f"class of {len(namespaces)} namespaces, concurrently: median {statistics.median(batches):.1f} s "
              f"of {', '.join(f'{s:.1f}' for s in batches)}")
    finally:
        for namespace in namespaces:
            cluster.delete_namespace(namespace, wait=0)


if __name__ == "__main__":
    main()
