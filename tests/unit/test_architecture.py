"""The layering the code relies on: `course` imports neither `firstapp` nor `grader`;
`grader` never imports `firstapp`; the CLI's fast paths (`--help`, `grade --static`)
load neither the Kubernetes client nor jsonschema. Checked on the source (every import
statement, also inside functions) and on a real interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO


def imported_modules(package: str) -> dict[str, set[str]]:
    """module file -> every module it imports, wherever in the file."""
    found: dict[str, set[str]] = {}
    for path in (REPO / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


@pytest.mark.parametrize("package, forbidden", [("course", ("firstapp", "grader")), ("grader", ("firstapp",))])
def test_layers_do_not_import_upwards(package, forbidden):
    offending = {module: sorted(n for n in names if n.split(".")[0] in forbidden)
                 for module, names in imported_modules(package).items()}
    assert {m: n for m, n in offending.items() if n} == {}


def modules_loaded_by(code: str) -> set[str]:
    run = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_importing_every_grader_module_loads_no_runtime_module():
    modules = [f"grader.{p.stem}" for p in (REPO / "grader").glob("*.py") if p.stem != "__init__"]
    loaded = modules_loaded_by("\n".join(f"import {m}" for m in modules))
    assert not {m for m in loaded if m.split(".")[0] == "firstapp"}


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["grade", "checkpoint-3", "--static", "--manifests", "k8s/reference/checkpoint-3.yaml"],
])
def test_fast_cli_paths_load_no_cluster_client_and_no_jsonschema(argv):
    loaded = modules_loaded_by(
        "import contextlib, io\nfrom firstapp.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        main({argv!r})\n"
        "    except SystemExit:\n        pass")
    assert "kubernetes" not in loaded and "jsonschema" not in loaded
    assert "grader.schema" in loaded or argv == ["--help"]


def test_every_third_party_import_is_a_declared_dependency():
    import importlib.metadata
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower()
                for requirement in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    local = {"course", "firstapp", "grader", "__future__"}
    missing = set()
    for package in ("course", "firstapp", "grader"):
        for module, names in imported_modules(package).items():
            for top in {name.split(".")[0] for name in names} - local - set(sys.stdlib_module_names):
                if not {d.lower() for d in distributions.get(top, [top])} & declared:
                    missing.add(f"{module}: {top}")
    assert missing == set()
