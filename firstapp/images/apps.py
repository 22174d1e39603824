"""The sample application's images for the local provider, made from this machine's
own Debian Python and Redis (no registry, no Docker): the same app code as the
Dockerfiles under apps/, which kind uses.

Rebuilt only when an input changes: `ImageSpec.fingerprint` covers every file's
path, size and modification time.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from course.model import tier
from course.paths import course_home
from firstapp.images.archive import ImageSpec

PYTHON = Path("/usr/bin/python3.11")
PYTHON_STDLIB = Path("/usr/lib/python3.11")
# Debian's redis-server package only links this binary (and starts a host Redis);
# redis-tools ships it. Redis picks its mode from its name: in the image it is redis-server.
REDIS = Path("/usr/bin/redis-check-rdb")
_STDLIB_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
                "__pycache__", "dist-packages", "site-packages", "unittest", "distutils"}


def shared_libraries(binary: Path) -> list[Path]:
    """The shared libraries `binary` loads, as ldd resolves them on this machine."""
    output = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    return [Path(p) for p in re.findall(r"(/\S+\.so[.\d]*)", output)]


def _add_binary(spec: ImageSpec, binary: Path, image_path: str | None = None) -> None:
    spec.files[image_path or str(binary)] = binary
    for library in shared_libraries(binary):
        spec.files.setdefault(str(library), library.resolve())


def _python_image(name: str, script: Path, *modules: Path) -> ImageSpec:
    spec = ImageSpec(tier(name).image, ["/usr/bin/python3", f"/app/{script.name}"],
                     env={"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}, workdir="/app")
    _add_binary(spec, PYTHON, "/usr/bin/python3")
    spec.add_tree(PYTHON_STDLIB, str(PYTHON_STDLIB),
                  skip=lambda p: p.name in _STDLIB_SKIP or p.name.startswith("config-3"))
    for extension in (PYTHON_STDLIB / "lib-dynload").glob("*.so"):
        for library in shared_libraries(extension):
            spec.files.setdefault(str(library), library.resolve())
    for source in (script, *modules):
        spec.files[f"/app/{source.name}"] = source
    return spec


def web(apps: Path) -> ImageSpec:
    return _python_image("web", apps / "web" / "web.py", apps / "common" / "service.py")


def api(apps: Path) -> ImageSpec:
    return _python_image("api", apps / "api" / "api.py", apps / "api" / "redis_client.py",
                         apps / "common" / "service.py")


def db() -> ImageSpec:
    spec = ImageSpec(tier("db").image,
                     ["/usr/bin/redis-server", "--bind", "0.0.0.0", "--protected-mode", "no",
                      "--save", "", "--appendonly", "no", "--dir", "/data"],
                     workdir="/data", directories=("/tmp", "/data"))
    _add_binary(spec, REDIS, "/usr/bin/redis-server")
    return spec


def all_images() -> list[ImageSpec]:
    missing = [str(p) for p in (PYTHON, PYTHON_STDLIB, REDIS) if not p.exists()]
    if missing:
        raise FileNotFoundError(f"the offline image build needs {', '.join(missing)} (Debian packages "
                                "python3.11-minimal, libpython3.11-stdlib and redis-tools; "
                                "k8s/local/install-deps.sh installs them)")
    apps = course_home() / "apps"
    return [web(apps), api(apps), db()]
