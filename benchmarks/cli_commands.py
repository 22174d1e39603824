"""Times what a user waits for at the command line: each command as a whole process
(interpreter start, imports, work, exit), run several times, medians. Prints the
machine and the goals from the README.

    .venv/bin/python benchmarks/cli_commands.py [--runs 11]

`firstapp status` needs the course's cluster up (it asks every component and the app).
Commands run with Python's default of caching bytecode (PYTHONDONTWRITEBYTECODE, set in
some sandboxes, is removed: learners' shells do not set it, and without the cache every
run compiles the course's modules again).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRSTAPP = str(Path(sys.executable).with_name("firstapp"))
COMMANDS = {
    "firstapp --help": ([FIRSTAPP, "--help"], 0.3),
    "firstapp grade checkpoint-3 --static (reference)": (
        [FIRSTAPP, "grade", "checkpoint-3", "--static", "--manifests", str(REPO / "k8s/reference/checkpoint-3.yaml")], 0.5),
    "firstapp status": ([FIRSTAPP, "status"], 1.0),
}


ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120,
                   env=ENVIRONMENT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start")
    for name, (command, goal) in COMMANDS.items():
        wall_seconds(command)  # warm the page cache; not counted
        times = sorted(wall_seconds(command) for _ in range(args.runs))
        median = statistics.median(times)
        print(f"{name:<50} median {median:.3f} s (min {times[0]:.3f}, max {times[-1]:.3f}, {args.runs} runs)"
              f"  goal < {goal} s: {'met' if median < goal else 'NOT met'}")


if __name__ == "__main__":
    main()
