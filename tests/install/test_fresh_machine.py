"""The course's install step on a fresh machine: a throwaway minimal Debian 12
(`debootstrap --variant=minbase`, from the mirror apt uses here) where none of the listed
packages' files exist, runs the repository's k8s/local/install-deps.sh in a chroot; then
every file of k8s/local/debian-packages.list is there, Debian's Python 3.11 imports what
the sample app imports, the Redis binary runs as a server, and no service was started.

The base system is cached as a tarball under the course cache
(${FIRSTAPP_CACHE:-~/.cache/k8s-first-app}/install-test/), keyed by the debootstrap
inputs and the ISO week, so a warm run only unpacks it. Needs root, debootstrap
(scripts/test-deps.sh installs it) and the Debian mirror; it fails, never skips, when it
cannot run (`pytest -m 'not install'` leaves it out on a machine that cannot run it)."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from course.paths import cache_dir as course_cache_dir
from tests.install import INSTALL_DEPS, PACKAGE_LIST, REPO, read_package_list

pytestmark = pytest.mark.install

SUITE = "bookworm"  # the list names Debian 12's packages (python3.11)
VARIANT = "minbase"  # Essential and Priority: required packages, and apt: less than any real machine
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the sample app's Python tiers import (apps/), and the Redis server as the image runs it.
APP_IMPORTS = "html, http.server, json, os, socket, sys, typing, urllib.error, urllib.request"
REDIS_BINARY = "/usr/bin/redis-check-rdb"
REDIS_IN_IMAGE = "/usr/bin/redis-server"


def cache_dir() -> Path:
    return course_cache_dir() / "install-test"


def run(*command: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}",
                    pytrace=False)
    return done


def apt_mirror(suite: str = SUITE) -> str:
    """The first enabled `deb` source of this machine's apt for SUITE's main component,
    in either format (/etc/apt/sources.list(.d)/*.list, or deb822 *.sources)."""
    apt = Path("/etc/apt")
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]:
        if path.is_file():
            for line in path.read_text().splitlines():
                words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
                if len(words) >= 4 and words[0] == "deb" and words[2] == suite and "main" in words[3:]:
                    return words[1]
    for path in sorted((apt / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = {}
            for line in stanza.splitlines():
                if line and not line.startswith("#") and ":" in line and not line[0].isspace():
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.split()
            if ("deb" in fields.get("types", []) and suite in fields.get("suites", [])
                    and "main" in fields.get("components", []) and fields.get("enabled", ["yes"]) != ["no"]
                    and fields.get("uris")):
                return fields["uris"][0]
    pytest.fail(f"no apt source for Debian {suite} main in /etc/apt/sources.list(.d); this test needs one",
                pytrace=False)


def mounts_under(root: Path) -> list[str]:
    prefix = str(root) + "/"
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return sorted((m.replace("\\040", " ") for m in mounts if (m.replace("\\040", " ") + "/").startswith(prefix)),
                  reverse=True)


def processes_in(root: Path) -> list[int]:
    """The processes whose root directory is `root` (started inside the chroot)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "root") == str(root):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def remove_tree(root: Path) -> None:
    """Unmounts what is mounted below `root`, then deletes it; never deletes through a
    mount (that would reach into /proc or the host's /dev)."""
    for pid in processes_in(root):
        os.kill(pid, signal.SIGKILL)
    for mount in mounts_under(root):
        if subprocess.run(["umount", mount], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mount], capture_output=True)
    left = mounts_under(root)
    if left:
        raise RuntimeError(f"still mounted, so {root} is kept: {left}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=True)


def clear_stale(cache: Path) -> None:
    """What runs that were killed left: their chroots, builds and partial tarballs."""
    for stale in [*cache.glob("root-*"), *cache.glob("build-*"), *cache.glob("*.partial-*")]:
        pid = re.search(r"(?:root|build|partial)-(\d+)", stale.name)
        if pid and not Path("/proc", pid.group(1)).exists():
            if stale.is_dir():
                remove_tree(stale)
            else:
                stale.unlink()


def base_tarball(mirror: str) -> tuple[Path, float]:
    """A tarball of `debootstrap --variant=minbase SUITE`, built unless cached; returns it
    and the seconds spent building (0 when cached)."""
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not os.access(debootstrap, os.X_OK):
        pytest.fail("debootstrap is not installed; scripts/test-deps.sh installs it (./run-tests runs it)",
                    pytrace=False)
    version = run(debootstrap, "--version").stdout.strip()
    year, week_number, _ = datetime.date.today().isocalendar()
    week = f"{year}-W{week_number:02d}"
    key = hashlib.sha256(f"{SUITE} {VARIANT} {mirror} {version} {week}".encode()).hexdigest()[:16]
    cache = cache_dir()
    tarball = cache / f"debian-{SUITE}-{VARIANT}-{key}.tar"
    if tarball.exists():
        return tarball, 0.0
    cache.mkdir(parents=True, exist_ok=True)
    clear_stale(cache)
    started = time.monotonic()
    build = cache.resolve() / f"build-{os.getpid()}"
    try:
        if build.exists():
            remove_tree(build)
        build.mkdir()
        run("mount", "-t", "tmpfs", "-o", "size=4g,mode=0755", "firstapp-install-test", str(build))
        run(debootstrap, f"--variant={VARIANT}", SUITE, str(build), mirror, timeout=1800)
        partial = tarball.with_suffix(f".partial-{os.getpid()}")
        run("tar", "-C", str(build), "--numeric-owner", "--xattrs", "-cf", str(partial), ".", timeout=600)
        partial.replace(tarball)
    finally:
        if build.exists():
            remove_tree(build)
    for old in cache.glob(f"debian-{SUITE}-{VARIANT}-*.tar"):
        if old != tarball:
            old.unlink()
    return tarball, time.monotonic() - started


def present(root: Path, files: list[str]) -> list[str]:
    """Which of `files` exist inside the chroot, seen from inside (its absolute symlinks,
    such as /sbin/modprobe -> /bin/kmod, resolve in the chroot, not on this host)."""
    script = 'for f in "$@"; do [ -e "$f" ] && echo "$f"; done; true'
    return run("chroot", str(root), "/bin/sh", "-c", script, "sh", *files).stdout.split()


def installed_packages(root: Path, names: list[str]) -> set[str]:
    done = run("chroot", str(root), "dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\\n", *names, check=False)
    return {line.split()[0] for line in done.stdout.splitlines() if line.endswith(" installed")}


PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def in_chroot(root: Path, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """COMMAND in the chroot with a login's environment, not this process's (no pyenv,
    no venv); only a proxy, which the learner's machine would have too, is passed on."""
    proxies = [f"{name}={os.environ[name]}" for name in PROXY_VARIABLES if name in os.environ]
    return run("chroot", str(root), "/usr/bin/env", "-i", f"PATH={CHROOT_PATH}", "HOME=/root", "LANG=C.UTF-8",
               *proxies, *command, timeout=timeout)


def apt_proxy_settings() -> str:
    """This machine's apt proxy settings (apt.conf), for the chroot's apt to reach the mirror too."""
    lines = []
    for key in ("Acquire::http::Proxy", "Acquire::https::Proxy"):
        value = run("apt-config", "shell", "VALUE", key, check=False).stdout.strip()
        if value.startswith("VALUE="):
            lines.append(f'{key} "{value[len("VALUE="):].strip(chr(39))}";')
    return "\n".join(lines)


def test_install_deps_installs_every_listed_package_on_a_fresh_debian():
    if os.geteuid() != 0:
        pytest.fail("this test needs root (debootstrap and chroot); run ./run-tests as root, or leave it "
                    "out with -m 'not install'", pytrace=False)
    packages = read_package_list()
    to_install = [package for package in packages if not package.base]
    tarball, built_in = base_tarball(apt_mirror())
    cache = cache_dir()
    clear_stale(cache)
    root = cache.resolve() / f"root-{os.getpid()}-{time.monotonic_ns()}"
    started = time.monotonic()
    try:
        root.mkdir(parents=True)
        # In memory: unpacking, dpkg and the clean-up (one umount) take seconds, not minutes.
        run("mount", "-t", "tmpfs", "-o", "size=4g,mode=0755", "firstapp-install-test", str(root))
        run("tar", "-C", str(root), "--numeric-owner", "--xattrs", "-xpf", str(tarball), timeout=600)
        unpacked_in = time.monotonic() - started

        # The base has the `base` packages and none of the others' files.
        base_names = [package.name for package in packages if package.base]
        assert installed_packages(root, base_names) == set(base_names), \
            f"packages marked `base` in {PACKAGE_LIST.name} that a minimal Debian lacks"
        assert present(root, [f for p in packages if p.base for f in p.files]) == \
            [f for p in packages if p.base for f in p.files], "files of `base` packages missing from the base"
        already = present(root, [file for package in to_install for file in package.files])
        assert not already, f"the fresh Debian already has {already}: the test would not prove their install"
        assert not installed_packages(root, [package.name for package in to_install])

        # A fresh machine as a learner has it: network, no running services allowed here.
        resolv, policy = root / "etc" / "resolv.conf", root / "usr" / "sbin" / "policy-rc.d"
        for path in (resolv, policy):  # never write through a link that points out of the chroot
            if path.is_symlink() or path.exists():
                path.unlink()
        resolv.write_text(Path("/etc/resolv.conf").read_text())
        policy.write_text("#!/bin/sh\n# tests/install: no service may start inside this chroot\nexit 101\n")
        policy.chmod(0o755)
        if proxy := apt_proxy_settings():
            (root / "etc" / "apt" / "apt.conf.d" / "01proxy").write_text(proxy + "\n")
        # This root is thrown away: dpkg need not fsync every file it unpacks.
        (root / "etc" / "dpkg" / "dpkg.cfg.d" / "unsafe-io").write_text("force-unsafe-io\n")
        checkout = root / "root" / "k8s-first-app"
        shutil.copytree(REPO / "k8s" / "local", checkout / "k8s" / "local",
                        ignore=shutil.ignore_patterns("gomod", "__pycache__"))
        run("mount", "-t", "proc", "proc", str(root / "proc"))
        script = f"/root/k8s-first-app/{INSTALL_DEPS.relative_to(REPO)}"

        install_started = time.monotonic()
        installed = in_chroot(root, "bash", script, timeout=1200)
        install_took = time.monotonic() - install_started
        assert "installing Debian packages" in installed.stderr

        every_file = [file for package in packages for file in package.files]
        missing = sorted(set(every_file) - set(present(root, every_file)))
        assert not missing, f"listed files the install did not provide: {missing}\n{installed.stderr[-3000:]}"
        assert installed_packages(root, [package.name for package in packages]) == {p.name for p in packages}

        # What the course does with them: the image build's Python and Redis, and ldd on them.
        python = in_chroot(root, "/usr/bin/python3.11", "-c",
                           f"import {APP_IMPORTS}, sys; print(sys.version_info[:2], sys.prefix)")
        assert python.stdout.strip() == "(3, 11) /usr", python.stdout
        redis = in_chroot(root, "bash", "-c", f'exec -a {REDIS_IN_IMAGE} {REDIS_BINARY} --version')
        assert redis.stdout.startswith("Redis server v=7"), redis.stdout
        libraries = in_chroot(root, "ldd", REDIS_BINARY)
        assert "not found" not in libraries.stdout, libraries.stdout
        assert REDIS_BINARY in every_file

        # Nothing started: no Redis daemon package, no process left in the chroot.
        assert not installed_packages(root, ["redis-server"]), "redis-server (which starts a daemon) got installed"
        assert not processes_in(root), f"processes left running in the chroot: {processes_in(root)}"

        # A second run finds everything: silent, and no apt-get at all.
        again = in_chroot(root, "bash", script, timeout=120)
        assert again.stdout == again.stderr == "", again.stderr
        timings = (f"base built {built_in:.0f} s, unpacked {unpacked_in:.1f} s, install {install_took:.0f} s, "
                   f"total after the base {time.monotonic() - started:.0f} s")
        print(f"tests/install: {timings}")
    finally:
        if root.exists():
            remove_tree(root)
