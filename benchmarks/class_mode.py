"""Times class mode as an instructor waits for it, each command as a whole process, for a
class of N learners on the current cluster:

1. `firstapp class create` from a roster of N (then again: the idempotent re-run);
2. every learner's checkpoint-3 namespace given the reference answer on their own node
   port (not timed as a command: it stands in for the learners' work), and the cluster
   memory that added, per learner, from the kubelet's summary of the pods' working sets;
3. `firstapp class collect checkpoint-3`, `firstapp class grade checkpoint-3` (runs
   times, median), and live batch grading of the N namespaces;
4. `firstapp class delete`; and checks no probe pod was left behind.

    .venv/bin/python benchmarks/class_mode.py [--learners 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from course.cluster import Cluster
from course.place import LEARNER_LABEL, class_namespace
from course.probe import PROBE_LABEL
from firstapp.sample_app import reference_objects

CONSOLE = Path(sys.executable).with_name("firstapp")


def timed(*args: str, check: bool = True) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.monotonic()
    run = subprocess.run([str(CONSOLE), *args], capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - started
    if check and run.returncode not in (0, 1):
        sys.exit(f"firstapp {' '.join(args)} failed ({run.returncode}):\n{run.stderr}")
    return elapsed


def class_memory(cluster: Cluster) -> int:
    """Bytes of working set of every pod in a learner namespace (the kubelet's summary)."""
    total = 0
    for node in cluster.core.list_node().items:
        response = cluster.core.connect_get_node_proxy_with_path(node.metadata.name, "stats/summary",
                                                                 _preload_content=False)
        summary = json.loads(response.data)
        total += sum(pod.get("memory", {}).get("workingSetBytes", 0) for pod in summary.get("pods", [])
                     if pod["podRef"]["namespace"].endswith("-checkpoint-3")
                     and pod["podRef"]["namespace"].startswith("bench"))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = Cluster.connect()
    folder = Path(tempfile.mkdtemp(prefix="firstapp-class-bench-"))
    roster = folder / "roster.csv"
    learners = [f"bench{i:02d}" for i in range(args.learners)]
    roster.write_text("".join(f"{id},Learner {id},{id}@example.org\n" for id in learners))
    class_dir = str(folder / "class")
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}; class of {args.learners}")

    print(f"class create: {timed('class', '--class-dir', class_dir, 'create', '--roster', str(roster)):.1f} s")
    print(f"class create again (idempotent): "
          f"{timed('class', '--class-dir', class_dir, 'create', '--roster', str(roster)):.1f} s")

    started = time.monotonic()
    for learner in learners:
        namespace = class_namespace(learner, "checkpoint-3")
        port = int(cluster.namespace_annotations(namespace)["firstapp.course/node-port"])
        docs = yaml.safe_load_all(yaml.safe_dump_all(reference_objects("checkpoint-3")).replace("30080", str(port)))
        cluster.apply([d for d in docs if d], namespace)
    for learner in learners:
        cluster.wait_available(class_namespace(learner, "checkpoint-3"),
                               ["Deployment/web", "Deployment/api", "StatefulSet/db"], timeout=900)
    print(f"(the learners' work: {args.learners * 3} pods ready after {time.monotonic() - started:.0f} s)")
    time.sleep(15)  # the kubelet's summary lags the pods by a few seconds
    memory = class_memory(cluster)
    print(f"cluster memory of the learners' pods: {memory / 2**20:.0f} MiB, "
          f"{memory / 2**20 / args.learners:.1f} MiB per learner")

    print(f"class collect checkpoint-3: {timed('class', '--class-dir', class_dir, 'collect', 'checkpoint-3'):.1f} s")
    grades = [timed("class", "--class-dir", class_dir, "grade", "checkpoint-3") for _ in range(args.runs)]
    print(f"class grade checkpoint-3 (snapshots): median {statistics.median(grades):.2f} s of {args.runs} "
          f"({', '.join(f'{g:.2f}' for g in grades)})")
    live = timed("grade", "checkpoint-3", "--all-namespaces", "--selector", "firstapp.lab=checkpoint-3",
                 "--format", "csv", "--output", str(folder / "live.csv"))
    print(f"live batch grading of {args.learners} namespaces: {live:.1f} s")
    rows = (folder / "class" / "gradebook" / "checkpoint-3" / "class.csv").read_text().splitlines()[1:]
    full = sum(1 for row in rows if row.split(",")[3] == row.split(",")[4])
    print(f"({full} of {len(rows)} learners scored full marks)")

    left = [p.metadata.name for p in cluster.core.list_pod_for_all_namespaces(label_selector=PROBE_LABEL).items
            if p.metadata.namespace.startswith(("bench", "firstapp-class")) and not p.metadata.deletion_timestamp]
    print(f"probe pods left behind: {len(left)}")
    print(f"class delete: {timed('class', '--class-dir', class_dir, 'delete'):.1f} s")
    remaining = cluster.core.list_namespace(label_selector=LEARNER_LABEL).items
    print(f"(learner namespaces left: {len(remaining)})")


if __name__ == "__main__":
    main()
