"""down.sh signals a pid from a pid file only while that pid is still the component
(k8s/local/lib.sh's pid_of and is_component): run by root, with the command line up.sh
recorded for that pid (or, without such a record, the component's name). A stale pid
file that now names someone else's process -- another program, a user's process calling
itself etcd, garbage -- names no component. Needs no cluster: lib.sh is pointed at a
temporary run folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "k8s" / "local" / "lib.sh"
ROOT = os.geteuid() == 0
AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def pid_of(run: Path, name: str) -> str | None:
    done = subprocess.run(["bash", "-c", '. "$1"; RUN=$2; pid_of "$3"', "_", str(LIB), str(run), name],
                          capture_output=True, text=True, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture
def start():
    """start(argv0, *command): runs command until the test ends; returns once the process
    runs the program that calls itself argv0."""
    started: list[subprocess.Popen] = []

    def run(argv0: str, *command: str) -> int:
        process = subprocess.Popen(command)
        started.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")[0] == argv0.encode():
                return process.pid
            time.sleep(0.02)
        pytest.fail(f"{command} did not start")
    yield run
    for process in started:
        process.kill()
        process.wait()


def test_a_pid_file_naming_another_program_names_no_component(tmp_path, start):
    other = start(sys.executable, sys.executable, "-c", "import time; time.sleep(60)")
    (tmp_path / "etcd.pid").write_text(f"{other}\n")
    assert pid_of(tmp_path, "etcd") is None


@pytest.mark.parametrize("content", ["", "abc", "-1", "0", "1 2", "99999999"])
def test_a_garbage_or_dead_pid_names_no_component(tmp_path, content):
    (tmp_path / "etcd.pid").write_text(content)
    assert pid_of(tmp_path, "etcd") is None
    assert pid_of(tmp_path, "kubelet") is None  # no pid file at all


def test_a_users_process_calling_itself_etcd_is_not_etcd(tmp_path, start):
    # As root, a process of nobody's; otherwise this test's own (not root either).
    impostor = start("etcd", *(AS_NOBODY if ROOT else ()), "bash", "-c", "exec -a etcd sleep 60")
    (tmp_path / "etcd.pid").write_text(str(impostor))
    assert pid_of(tmp_path, "etcd") is None


@pytest.mark.skipif(not ROOT, reason="a process of root's needs root")
def test_a_root_process_is_etcd_only_with_the_command_line_up_sh_recorded(tmp_path, start):
    etcd = start("etcd", "bash", "-c", "exec -a etcd sleep 60")  # its command line: etcd 60
    (tmp_path / "etcd.pid").write_text(str(etcd))
    assert pid_of(tmp_path, "etcd") == str(etcd)  # nothing recorded (an older up.sh): the name decides
    # Recorded for this pid (up.sh's start: the pid, then the command line): the whole
    # command line decides.
    for recorded in (b"/opt/bin/etcd\0--name\0firstapp\0", b"etcd\0", b"etcd\x0060\x0061\0", b"etcd 60\0"):
        (tmp_path / "etcd.cmdline").write_bytes(str(etcd).encode() + b"\0" + recorded)
        assert pid_of(tmp_path, "etcd") is None, recorded
    (tmp_path / "etcd.cmdline").write_bytes(f"{etcd}\0etcd\x0060\0".encode())
    assert pid_of(tmp_path, "etcd") == str(etcd)
    # Recorded for another pid (left by a run of an older up.sh, which wrote only the pid
    # file): not this process's record, so the name decides again.
    (tmp_path / "etcd.cmdline").write_bytes(f"{etcd + 100000}\0/opt/bin/etcd\0--name\0firstapp\0".encode())
    assert pid_of(tmp_path, "etcd") == str(etcd)


def test_firstapp_status_decides_as_lib_sh_does(tmp_path, start):
    from firstapp.providers.local import component_pid

    other = start(sys.executable, sys.executable, "-c", "import time; time.sleep(60)")
    (tmp_path / "etcd.pid").write_text(str(other))
    assert component_pid("etcd", tmp_path) is None and pid_of(tmp_path, "etcd") is None
    for content in ("", "abc", "-1", "0", "99999999"):
        (tmp_path / "etcd.pid").write_text(content)
        assert component_pid("etcd", tmp_path) is None
    etcd = start("etcd", "bash", "-c", "exec -a etcd sleep 60")
    (tmp_path / "etcd.pid").write_text(str(etcd))
    expected = etcd if ROOT else None
    assert component_pid("etcd", tmp_path) == expected
    assert pid_of(tmp_path, "etcd") == (str(expected) if expected else None)
    (tmp_path / "etcd.cmdline").write_bytes(f"{etcd}\0etcd\0--other\0".encode())
    assert component_pid("etcd", tmp_path) is None and pid_of(tmp_path, "etcd") is None
    for recorded in (f"{etcd}\0etcd\x0060\0", f"{etcd + 100000}\0etcd\0--other\0"):
        (tmp_path / "etcd.cmdline").write_bytes(recorded.encode())
        assert component_pid("etcd", tmp_path) == expected
        assert pid_of(tmp_path, "etcd") == (str(expected) if expected else None)
