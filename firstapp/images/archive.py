"""Write a container image as a `docker save` archive, from files on this machine.

Where no registry can be reached and no Docker daemon runs, the local provider still
needs images; `ctr -n k8s.io images import` accepts this archive format. The archive
is byte-for-byte reproducible (fixed mtimes, owners and order), so its digest changes
only when its content does, which is what lets callers skip rebuilding and re-importing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImageSpec:
    """What goes into the image: files by their path in the image, and how it runs."""

    tag: str  # "firstapp/web:1.0"
    entrypoint: list[str]
    files: dict[str, Path | bytes] = field(default_factory=dict)  # image path -> host file or content
    symlinks: dict[str, str] = field(default_factory=dict)  # image path -> target
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    directories: tuple[str, ...] = ("/tmp",)

    def add_tree(self, host_dir: Path, image_dir: str, skip=lambda path: False) -> None:
        """Every regular file and symlink below `host_dir`, at the same place below `image_dir`."""
        for root, dirs, names in os.walk(host_dir):
            dirs[:] = [d for d in dirs if not skip(Path(root, d))]
            for name in names:
                path = Path(root, name)
                if skip(path):
                    continue
                target = f"{image_dir.rstrip('/')}/{path.relative_to(host_dir)}"
                if path.is_symlink():
                    self.symlinks[target] = os.readlink(path)
                elif path.is_file():
                    self.files[target] = path


def fingerprint(spec: ImageSpec) -> str:
    """Changes whenever the image would: its settings, and each file's path, size and
    modification time (content for in-memory files)."""
    digest = hashlib.sha256(json.dumps([spec.tag, spec.entrypoint, sorted(spec.env.items()), spec.workdir,
                                        spec.user, list(spec.directories), sorted(spec.symlinks.items())]).encode())
    for image_path in sorted(spec.files):
        source = spec.files[image_path]
        if isinstance(source, bytes):
            digest.update(f"{image_path}:".encode() + hashlib.sha256(source).digest())
        else:
            info = source.stat()
            digest.update(f"{image_path}:{source}:{info.st_size}:{info.st_mtime_ns}:{info.st_mode}".encode())
    return digest.hexdigest()[:16]


def _layer(spec: ImageSpec) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        written: set[str] = set()

        def add_dirs(path: str) -> None:
            parts = path.strip("/").split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in written:
                    written.add(directory)
                    tar.addfile(_info(directory, tarfile.DIRTYPE, 0o755))

        for directory in spec.directories:
            add_dirs(directory.rstrip("/") + "/x")
        entries = sorted([(p, "file") for p in spec.files] + [(p, "link") for p in spec.symlinks])
        for image_path, what in entries:
            add_dirs(image_path)
            name = image_path.strip("/")
            if what == "link":
                info = _info(name, tarfile.SYMTYPE, 0o777)
                info.linkname = spec.symlinks[image_path]
                tar.addfile(info)
                continue
            source = spec.files[image_path]
            data = source if isinstance(source, bytes) else source.read_bytes()
            mode = 0o644 if isinstance(source, bytes) else stat.S_IMODE(source.stat().st_mode)
            info = _info(name, tarfile.REGTYPE, mode)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
    info.uname = info.gname = ""
    return info


def write_archive(spec: ImageSpec, destination: Path) -> str:
    """Write the image archive; return its config digest (the image ID)."""
    layer = _layer(spec)
    layer_digest = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": spec.entrypoint, "Env": [f"{k}={v}" for k, v in sorted(spec.env.items())],
                   "WorkingDir": spec.workdir, "User": spec.user},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        "history": [{"created_by": "firstapp.images (offline build)"}],
    }, sort_keys=True).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_digest}.json", "RepoTags": [spec.tag],
                            "Layers": [f"{layer_digest}/layer.tar"]}]).encode()
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in ((f"{layer_digest}/layer.tar", layer), (f"{config_digest}.json", config),
                           ("manifest.json", manifest)):
            info = _info(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    partial.replace(destination)
    return f"sha256:{config_digest}"
