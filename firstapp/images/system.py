"""The cluster's own images for the local provider: the pod sandbox (pause) and CoreDNS,
each a single static binary built by k8s/local/build.sh."""

from __future__ import annotations

from pathlib import Path

from firstapp.images.archive import ImageSpec

PAUSE_IMAGE = "firstapp.local/pause:1.0"
COREDNS_IMAGE = "firstapp.local/coredns:1.12.4"


def pause(bin_dir: Path) -> ImageSpec:
    return ImageSpec(PAUSE_IMAGE, ["/pause"], files={"/pause": bin_dir / "pause"})


def coredns(bin_dir: Path) -> ImageSpec:
    return ImageSpec(COREDNS_IMAGE, ["/coredns"], files={"/coredns": bin_dir / "coredns"})
