"""The Debian package list (k8s/local/debian-packages.list) against the code: every host
path under /usr that the local provider's scripts and the offline image build use, and
every Debian command the scripts run, is a file the list names, so nothing the course
needs is left for a learner to install by hand. Fast: it reads files and runs only
`bash -c compgen` (the builtins); it needs neither root nor Debian."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.install import PACKAGE_LIST, REPO, TEST_PACKAGE_LIST, read_package_list

SHELL_FILES = sorted([*REPO.glob("k8s/local/*.sh"), *REPO.glob("k8s/kind/offline/*.sh"), *REPO.glob("scripts/*.sh"),
                      REPO / "tests/kind/run.sh", REPO / "run-course", REPO / "run-tests"])
PYTHON_FILES = sorted([*REPO.glob("k8s/local/*.py"), *REPO.glob("firstapp/images/*.py")])
# Paths the image build writes *inside the images* (entrypoints, where a host file is
# placed): they need not exist on the host. A `Path("/usr/...")` is always a host path.
IMAGE_PATHS = {"/usr/bin/python3", "/usr/bin/redis-server"}
# Commands the scripts run that no Debian package of the list provides, and why.
NOT_FROM_THE_LIST = {
    "python3": "the user's Python 3.11+ (README: prerequisites); the venv's inside firstapp",
    "python": "the venv's Python (run-tests)",
    "go": "Go 1.24+ (README: prerequisites); Debian 12's golang is too old",
    "firstapp": "the course's own command, installed into .venv",
    "kind": "built by k8s/kind/offline/build.sh from the Go module proxy (a learner's own kind elsewhere)",
}
HOST_PATH = re.compile(r"(?<![\w$}./-])(/usr/(?!local/)[\w.+-]+(?:/[\w.+-]+)*)")


def merged(path: str) -> str:
    """The path on a merged-/usr system: /bin/ip is /usr/bin/ip."""
    for old in ("/bin/", "/sbin/", "/lib/"):
        if path.startswith(old):
            return "/usr" + path
    return path


def listed_files() -> set[str]:
    """The course's files, and the tests' (scripts/ installs and uses those)."""
    return {merged(file) for path in (PACKAGE_LIST, TEST_PACKAGE_LIST)
            for package in read_package_list(path) for file in package.files}


def covered(path: str, files: set[str]) -> bool:
    """A listed file, or a folder the listed files are in (/usr/lib/cni, /usr/lib/python3.11)."""
    path = merged(path.rstrip("/"))
    return path in files or any(file.startswith(path + "/") for file in files)


def strip_comments(text: str, heredocs: bool = False) -> str:
    """Shell text without comments (but with the shebang, which names a host file too),
    and without heredoc bodies (the files up.sh writes) when `heredocs` is set."""
    lines, kept, index = text.splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        kept.append(line if index == 0 and line.startswith("#!") else re.sub(r"(^|\s)#.*$", r"\1", line))
        heredoc = re.search(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?", line)
        index += 1
        if heredocs and heredoc and "<<<" not in line:
            while index < len(lines) and lines[index].strip() != heredoc.group(1):
                index += 1
            index += 1
    return "\n".join(kept)


def shell_host_paths(path: Path) -> set[str]:
    """/usr paths in a script, the files it writes (containerd's bin_dir) included."""
    return set(HOST_PATH.findall(strip_comments(path.read_text())))


def python_paths(path: Path) -> tuple[set[str], set[str]]:
    """(paths given to Path(...): host paths; every other /usr string), docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    host, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "Path" and isinstance(node.args[0].value, str) and HOST_PATH.fullmatch(node.args[0].value):
                host.add(node.args[0].value)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and HOST_PATH.fullmatch(node.value)):
            other.add(node.value)
    return host, other - host


BEFORE_COMMAND = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
RUNS_A_COMMAND = {"exec", "command", "setsid", "xargs", "env", "nice", "timeout"}


def shell_commands(path: Path) -> set[str]:
    """The words in command position (best effort: what a quick reading of the script
    sees; words inside quoted strings are not looked into)."""
    text = re.sub(r"\\\n", " ", strip_comments(path.read_text(), heredocs=True))
    text = re.sub(r"\d*>&\d+|\d+>>?|<\(", " ", text).replace("$(", " ( ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()\n")
    lexer.whitespace, lexer.commenters = " \t", ""
    lexer.wordchars += "$@{}[]:=,+%^~*?#"
    found, expect, skip_to_separator, case_pattern, after_case, runner = set(), True, False, False, False, False
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote in the quick reading: no commands from this file
        return set()
    for token in tokens:
        if token == ";;":
            case_pattern, expect = True, False
            continue
        if set(token) <= set(";&|()\n"):
            if case_pattern and ")" in token:
                case_pattern = False
            expect, skip_to_separator, runner = True, False, False
            continue
        if after_case:
            after_case = token != "in"
            case_pattern = not after_case
            continue
        if case_pattern:
            if token == "esac":
                case_pattern = False
            continue
        if skip_to_separator or not expect:
            continue
        if re.fullmatch(r"[A-Za-z_]\w*(\[[^]]*\])?\+?=.*", token) or token in BEFORE_COMMAND:
            continue
        if token in ("for", "select"):
            skip_to_separator, expect = True, False
            continue
        if token == "case":
            after_case, expect = True, False
            continue
        if runner and token.startswith("-"):  # `command -v NAME`: an option of the runner
            continue
        found.add(token)
        expect = runner = token in RUNS_A_COMMAND
    return found


def defined_functions(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        names |= set(re.findall(r"(?m)^\s*(?:function\s+)?([\w-]+)\s*\(\)\s*\{", path.read_text()))
    return names


def python_commands(path: Path) -> set[str]:
    """The first word of each literal command list given to subprocess or shutil.which."""
    return set(re.findall(r"\b(?:run|Popen|check_output|check_call|call|which)\(\s*\[?\s*[\"']([\w.+-]+)[\"']",
                          path.read_text()))


def bash_builtins() -> set[str]:
    return set(subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True,
                              check=True).stdout.split())


def on_this_host(command: str) -> bool:
    return any(os.access(Path(folder, command), os.X_OK) for folder in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"))


@pytest.mark.parametrize("path", [PACKAGE_LIST, TEST_PACKAGE_LIST], ids=lambda path: path.name)
def test_the_list_is_well_formed(path):
    packages = read_package_list(path)
    names = [package.name for package in packages]
    assert len(names) == len(set(names)), f"packages listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    assert all(package.files for package in packages), "every package names the files the course uses from it"
    for package in packages:
        for file in package.files:
            assert os.path.normpath(file) == file, f"{package.name}: {file} is not a plain absolute path"


def test_every_usr_path_of_the_scripts_is_listed():
    files = listed_files()
    missing = {f"{path.relative_to(REPO)}: {used}"
               for path in SHELL_FILES for used in shell_host_paths(path) if not covered(used, files)}
    assert not missing, f"host paths the scripts use that {PACKAGE_LIST.name} does not list: {sorted(missing)}"


def test_every_usr_path_of_the_image_build_is_listed():
    files = listed_files()
    missing = set()
    for path in PYTHON_FILES:
        host, other = python_paths(path)
        missing |= {f"{path.relative_to(REPO)}: {used} (read from the host)" for used in host if not covered(used, files)}
        missing |= {f"{path.relative_to(REPO)}: {used}" for used in other
                    if used not in IMAGE_PATHS and not covered(used, files)}
    assert not missing, (f"host paths the Python code uses that {PACKAGE_LIST.name} does not list "
                         f"(no package installs them): {sorted(missing)}")


def test_every_debian_command_the_scripts_run_is_listed():
    """A command the scripts run must come from a listed package (or be named in
    NOT_FROM_THE_LIST). Words the quick reading mistakes for commands are ignored unless
    they are a program on this machine (CI's has every listed package), so a parsing slip
    does not fail it."""
    provided = {Path(file).name for file in listed_files()}
    ignored = bash_builtins() | defined_functions(SHELL_FILES) | set(NOT_FROM_THE_LIST)
    unlisted = set()
    for path in SHELL_FILES:
        for command in shell_commands(path):
            if (re.fullmatch(r"[A-Za-z][\w.+-]*", command) and command not in ignored
                    and command not in provided and on_this_host(command)):
                unlisted.add(f"{path.relative_to(REPO)}: {command}")
    for path in PYTHON_FILES:
        unlisted |= {f"{path.relative_to(REPO)}: {command}" for command in python_commands(path)
                     if command not in provided and command not in NOT_FROM_THE_LIST}
    assert not unlisted, (f"commands the code runs whose Debian package {PACKAGE_LIST.name} does not list "
                          f"(find it with `dpkg -S $(command -v NAME)`): {sorted(unlisted)}")


def test_the_quick_reading_finds_the_commands_we_know_of():
    """Guards the parser above: these commands are certainly run by these scripts."""
    assert {"setsid", "sysctl", "modprobe"} <= shell_commands(REPO / "k8s/local/up.sh")
    assert {"ip", "awk"} <= shell_commands(REPO / "k8s/local/lib.sh")
    assert {"ctr"} <= python_commands(REPO / "firstapp/images/containerd.py")
    assert {"ldd"} <= python_commands(REPO / "firstapp/images/apps.py")
