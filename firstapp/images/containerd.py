"""Importing image archives into containerd's `k8s.io` namespace, where the kubelet
finds them, skipping images whose content is already there."""

from __future__ import annotations

import subprocess
from pathlib import Path

from firstapp.images.archive import ImageSpec, fingerprint, write_archive

NAMESPACE = "k8s.io"
ID_LABEL = "io.k8s-first-app/image-id"


def containerd_ref(tag: str) -> str:
    """The name containerd stores: `firstapp/web:1.0` is `docker.io/firstapp/web:1.0`."""
    first = tag.split("/", 1)[0]
    if "/" in tag and ("." in first or ":" in first or first == "localhost"):
        return tag
    return f"docker.io/{tag}" if "/" in tag else f"docker.io/library/{tag}"


def _ctr(*args: str) -> str:
    run = subprocess.run(["ctr", "-n", NAMESPACE, *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"ctr {' '.join(args)}: {run.stderr.strip() or run.stdout.strip()}")
    return run.stdout


def imported_id(tag: str) -> str | None:
    """The image ID we labelled the image with when importing it, if it is there."""
    for line in _ctr("images", "ls", f"name=={containerd_ref(tag)}").splitlines()[1:]:
        for label in line.split()[-1].split(","):
            key, _, value = label.partition("=")
            if key == ID_LABEL:
                return value
    return None


def build_and_import(spec: ImageSpec, work_dir: Path) -> bool:
    """Build `spec` and import it unless the same content is already imported.
    Returns True when it imported."""
    stem = spec.tag.replace("/", "_").replace(":", "_") + "-" + fingerprint(spec)
    archive, id_file = work_dir / f"{stem}.tar", work_dir / f"{stem}.id"
    if archive.exists() and id_file.exists():
        image_id = id_file.read_text().strip()
    else:
        for stale in work_dir.glob(spec.tag.replace("/", "_").replace(":", "_") + "-*"):
            stale.unlink()
        image_id = write_archive(spec, archive)
        id_file.write_text(image_id)
    if imported_id(spec.tag) == image_id:
        return False
    _ctr("images", "import", str(archive))
    _ctr("images", "label", containerd_ref(spec.tag), f"{ID_LABEL}={image_id}")
    return True
