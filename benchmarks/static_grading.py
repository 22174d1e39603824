"""Times static grading of checkpoint 3 in-process: the reference submission (3
workloads, 3 Services) and a 1,000-object submission (the reference plus 994 more
Services). Prints the median and spread of several runs, and the machine.

    .venv/bin/python benchmarks/static_grading.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import yaml

from grader.loading import load_text
from grader.run import grade_static

REFERENCE = Path(__file__).resolve().parents[1] / "k8s" / "reference" / "checkpoint-3.yaml"


def big_submission(objects: int = 1000) -> str:
    docs = [d for d in yaml.safe_load_all(REFERENCE.read_text()) if d]
    for index in range(objects - len(docs)):
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"extra-{index}"},
                     "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 8080,
                                                                     "targetPort": "http"}]}})
    return yaml.safe_dump_all(docs)


def timed(text: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = grade_static("checkpoint-3", load_text(text, "bench.yaml"))
        samples.append(time.perf_counter() - started)
        assert result.checks  # the work really happened
    return samples


def report(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    print(f"{name:<34} median {statistics.median(ms):8.1f} ms   min {ms[0]:8.1f}   max {ms[-1]:8.1f}   "
          f"(n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    reference = REFERENCE.read_text()
    first = timed(reference, 1)  # includes loading the schemas once per process
    report("reference, first in process", first)
    report("reference (3 workloads, 3 Services)", timed(reference, args.runs))
    report("1,000 objects", timed(big_submission(), max(3, args.runs // 3)))


if __name__ == "__main__":
    main()
