"""Build and import images into the local cluster's containerd (used by k8s/local/up.sh
and `firstapp up`):

  python -m firstapp.images system BIN_DIR WORK_DIR   the cluster's pause and CoreDNS
  python -m firstapp.images apps WORK_DIR             the sample app: web, api, db
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from firstapp.images import apps, system
from firstapp.images.containerd import build_and_import


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "system":
        specs, work_dir = [system.pause(Path(argv[1])), system.coredns(Path(argv[1]))], Path(argv[2])
    elif len(argv) == 2 and argv[0] == "apps":
        try:
            specs = apps.all_images()
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 2
        work_dir = Path(argv[1])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    work_dir.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        started = time.monotonic()
        imported = build_and_import(spec, work_dir)
        print(f"{spec.tag}: {'imported' if imported else 'up to date'} ({time.monotonic() - started:.1f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
