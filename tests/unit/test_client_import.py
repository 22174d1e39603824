"""Every command that talks to a cluster imports the Kubernetes client through
`course.kube`, which keeps the dynamic client from importing jsonschema's format
checkers (seconds of grammar compiling per process, for a validation the course never
asks for)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_client_is_imported_without_jsonschema():
    probe = "import course.cluster, grader.observe, sys; print(sorted(m for m in ('jsonschema', 'kubernetes_validate') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_kubernetes_validate_stays_importable_for_the_schema_files():
    probe = "import course.cluster, kubernetes_validate, importlib.util; print(importlib.util.find_spec('kubernetes_validate') is not None)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.stdout.strip() == "True", run.stderr


def test_only_course_kube_imports_the_client_package():
    offenders = []
    for package in ("course", "firstapp", "grader"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "course" / "kube.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name == "kubernetes" or name.startswith("kubernetes.") for name in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "import the client from course.kube: " + ", ".join(offenders)
