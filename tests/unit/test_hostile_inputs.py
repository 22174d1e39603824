"""A generator of hostile submissions (issue #10): YAML and JSON structures with wrong
types in Service and Deployment fields, random kinds, control characters, lone
surrogates, huge integers, NaN, deep nesting, and raw bytes, fed through loading, static
grading and every report renderer.

The property: a submission ends either in a `LabResult` whose every rendering is
well-formed (JSON any parser reads, XML 1.0, text without control characters) or in
one `UnusableInput` message on one printable line; never in another exception. Sizes
are bounded by the strategies and every example by a deadline generous for a shared
machine. In CI (`CI` set) the examples are the same every run.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.findings import Finding
from grader.live import Reach, Route
from grader.loading import MAX_INPUT_BYTES
from grader.result import CheckResult, LabResult
from tests.conftest import REFERENCE_CHECKPOINT_3, REPO
from tests.unit.hostile_checks import assert_well_formed, grade_everything

LABS = ("checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4")
HOSTILE = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "120")),
    deadline=timedelta(seconds=20),  # a typical example takes milliseconds; the machine is shared
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# --- values ----------------------------------------------------------------------

NASTY_CHARACTERS = st.one_of(
    st.characters(),
    st.integers(0x00, 0x20).map(chr),
    st.integers(0x7F, 0x9F).map(chr),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from(["\u2028", "\u2029", "\u202e", "\u2066", "\ufeff", "\ufffe", "\uffff", "\U0001f600"]),
)
NASTY_STRINGS = st.one_of(
    st.text(NASTY_CHARACTERS, max_size=40),
    st.sampled_from(["8080", "http", "web", "api", "db", "2024-01-01", "0x1F", ".nan", "-.inf", "yes", "~", "<<",
                     "\x1b[2K\r  \x1b[32mPASS\x1b[0m", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "a\nFAIL b",
                     "&a", "*a", "!!binary", "", " ", "Redis_Port", "redis-primary-port", "firstapp/web:1.0"]),
    st.integers(1, 3000).map(lambda n: "k" * n),
)
NUMBERS = st.one_of(
    st.integers(-70000, 70000),
    st.integers(),
    st.sampled_from([0, 1, 6379, 8080, 65535, 65536, 30080, 2**31, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**30,
                     1e308, 1e-320, -0.0, 8080.0, 8080.5]),
    st.floats(allow_nan=True, allow_infinity=True),
    # Integers of thousands of digits, written into the text by `written` (Python itself
    # refuses to turn them into text, and Hypothesis to show them).
    st.tuples(st.sampled_from(["", "-", "0x", "-0x"]), st.integers(4000, 6000)).map(
        lambda sign_digits: f"@@HUGE{sign_digits[0]}{'9' * sign_digits[1]}@@"),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, NASTY_STRINGS)
KEYS = st.one_of(st.sampled_from(["name", "port", "targetPort", "ports", "containers", "selector", "app", "kind",
                                  "apiVersion", "metadata", "spec", "items", "<<"]), NASTY_STRINGS)
VALUES = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=4),
                                                         st.dictionaries(KEYS, children, max_size=4)),
                      max_leaves=25)
KINDS = st.one_of(st.sampled_from(["Service", "Deployment", "StatefulSet", "Pod", "DaemonSet", "Job", "CronJob",
                                   "PodTemplate", "ReplicaSet", "List", "ServiceList", "ConfigMap"]), NASTY_STRINGS)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


REFERENCE = [d for d in yaml.safe_load_all(REFERENCE_CHECKPOINT_3.read_text()) if d]
REFERENCE_PATHS = [(index, path) for index, doc in enumerate(REFERENCE) for path in _paths(doc)]


@st.composite
def mutated_reference(draw: st.DrawFn) -> list[Any]:
    """The reference solution with a few fields (often Service and Deployment fields)
    replaced by hostile values of any type, a kind or two changed, maybe an object
    repeated or dropped."""
    docs: list[Any] = copy.deepcopy(REFERENCE)
    for index, path in draw(st.lists(st.sampled_from(REFERENCE_PATHS), min_size=1, max_size=4)):
        parent = docs[index]
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced this field's parent
    if draw(st.booleans()):
        docs[draw(st.integers(0, len(docs) - 1))]["kind"] = draw(KINDS)
    if draw(st.sampled_from([False] * 9 + [True])):
        docs.append(copy.deepcopy(docs[0]))
    if draw(st.sampled_from([False] * 4 + [True])):
        docs = [{"apiVersion": "v1", "kind": "List", "items": docs}]
    return docs


_HUGE = re.compile(r"""['"]?@@HUGE(-?(?:0x)?9+)@@['"]?""")


def written(text: str) -> str:
    """The submission's text with each huge-integer placeholder as the number itself."""
    return _HUGE.sub(lambda match: match.group(1), text)


def as_yaml(docs: list[Any]) -> str:
    return written(yaml.safe_dump_all(docs, allow_unicode=True))


def as_json(docs: list[Any]) -> str:
    return written(json.dumps(docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}))


@st.composite
def generated_objects(draw: st.DrawFn) -> list[Any]:
    """Object-shaped documents with random fields, kinds and nesting."""
    return draw(st.lists(st.fixed_dictionaries(
        {"apiVersion": st.sampled_from(["v1", "apps/v1", "batch/v1", "apps/v2", ""]) | NASTY_STRINGS,
         "kind": KINDS, "metadata": st.fixed_dictionaries({"name": SCALARS}) | VALUES},
        optional={"spec": VALUES, "items": st.lists(VALUES, max_size=3), "data": VALUES}), min_size=1, max_size=3))


# --- raw text --------------------------------------------------------------------

TOKENS = st.sampled_from([
    "apiVersion: v1\n", "kind: Service\n", "kind: List\n", "metadata: {name: web}\n", "spec:\n", "  ports:\n",
    "  - port: ", "targetPort: ", "---\n", "...\n", "&a ", "*a ", "<<: *a\n", "!!binary ", "!!set ", "!!omap ",
    "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!map ", "!!seq ", "!!str ", "!!null ", "!!merge ", "!!python/object:os.system ", "!foo ", "{", "}", "[", "]",
    ", ", ": ", "- ", "? ", "|\n", ">-\n", "'", '"', "\\x1b", "\\ud800", "\\e", "\\N", "\t", "\n", "  ", "# c\n",
    "\x00", "\x1b", "\x85", "\x90", "\u2028", "\ufeff", "\ud800", "9" * 40, "0x", "0b", "1:2:3", ".nan", ".inf",
    "2024-01-01", "1e999", "yes", "~", "null", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", '{"a": ', "NaN", "Infinity",
])


@st.composite
def deep(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 1500))
    style = draw(st.sampled_from(["json-list", "json-object", "yaml-flow", "yaml-block"]))
    if style == "json-list":
        return '{"apiVersion": "v1", "kind": "Service", "spec": ' + "[" * depth + "]" * depth + "}"
    if style == "json-object":
        return '{"apiVersion": "v1", "kind": "Service", "spec": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    if style == "yaml-flow":
        return "apiVersion: v1\nkind: Service\nspec: " + "[" * depth + "]" * depth + "\n"
    return "apiVersion: v1\nkind: Service\nspec:\n" + "".join("  " * (level + 1) + f"k{level}:\n"
                                                          for level in range(min(depth, 200))) + "  " * 201 + "x\n"


# --- the properties ---------------------------------------------------------------

@HOSTILE
@given(docs=mutated_reference(), to_json=st.booleans(), lab=st.sampled_from(LABS))
def test_mutated_reference_submissions(docs, to_json, lab):
    grade_everything(as_json(docs) if to_json else as_yaml(docs), lab)


@HOSTILE
@given(docs=generated_objects(), to_json=st.booleans(), lab=st.sampled_from(LABS))
def test_generated_objects(docs, to_json, lab):
    grade_everything(as_json(docs) if to_json else as_yaml(docs), lab)


@HOSTILE
@given(text=st.one_of(st.lists(TOKENS, max_size=60), st.lists(TOKENS | st.text(NASTY_CHARACTERS, max_size=5),
                                                             max_size=60)).map("".join),
       lab=st.sampled_from(LABS))
def test_yaml_like_text(text, lab):
    grade_everything(text, lab)
    grade_everything(text.encode("utf-8", "surrogatepass"), lab)


@HOSTILE
@given(data=st.binary(max_size=3000), lab=st.sampled_from(LABS))
def test_raw_bytes(data, lab):
    grade_everything(data, lab)


@HOSTILE
@given(text=deep(), lab=st.sampled_from(LABS))
def test_deep_nesting(text, lab):
    grade_everything(text, lab)


BROKEN_SERVICE = ("---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{0}, labels: {{app: '\\e[31m{0}'}}}}\n"
                  "spec: {{selectr: {{app: web}}, type: NodePort, ports: [{{port: 70000, targetPort: '8080', "
                  "nodePort: 99999, name: BAD_{0}}}, {{port: 0}}]}}\n")
LARGEST = {
    "a 1 MiB flow sequence": "a: [" + "1," * (MAX_INPUT_BYTES // 2 - 4) + "]\n",
    "a 1 MiB JSON array": "[" + "0," * (MAX_INPUT_BYTES // 2 - 1) + "]",
    "1 MiB of documents": "---\n" * (MAX_INPUT_BYTES // 4),
    "a 1 MiB string": "apiVersion: v1\nkind: Service\nmetadata: {name: '" + "x" * (MAX_INPUT_BYTES - 64) + "'}\n",
    "an alias bomb": "a: &a [" + ", ".join(["x"] * 10) + "]\n" + "".join(
        f"{chr(98 + level)}: &{chr(98 + level)} [" + ", ".join([f"*{chr(97 + level)}"] * 10) + "]\n"
        for level in range(8)),
    "1,000 broken Services": "".join(BROKEN_SERVICE.format(index) for index in range(1000)),
}
# Peak memory is the process's own VmHWM: getrusage's ru_maxrss would carry over the
# peak of pytest itself, which the child replaced by exec (Linux keeps it across exec).
MEASURE = """
import sys, time
from tests.unit.hostile_checks import grade_everything
text = open(sys.argv[1], encoding="utf-8").read()
started = time.process_time()
grade_everything(text, "checkpoint-3")
peak_kib = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.process_time() - started, peak_kib)
"""


@pytest.mark.parametrize("name", list(LARGEST))
def test_the_largest_inputs_are_bounded_in_time_and_memory(name, tmp_path):
    """At the size limits, what loading, grading and every report take in a fresh
    process: CPU seconds, not minutes, and tens of megabytes (four 8 MiB files once
    took 102 s and 444 MB)."""
    submission = tmp_path / "submission.yaml"
    submission.write_text(LARGEST[name], encoding="utf-8")
    assert len(LARGEST[name].encode()) <= MAX_INPUT_BYTES
    run = subprocess.run([sys.executable, "-c", MEASURE, str(submission)], capture_output=True, text=True,
                         timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]
    cpu, max_rss_kib = run.stdout.split()
    assert float(cpu) < 30, f"{name}: {float(cpu):.1f} s of CPU"
    assert int(max_rss_kib) < 300 * 1024, f"{name}: {int(max_rss_kib) // 1024} MiB at most"


# --- the renderers alone: any value a finding or a route may carry ---------------

ANY_VALUE = st.recursive(
    st.one_of(SCALARS, st.dates(), st.datetimes(), st.binary(max_size=8), st.sampled_from(list(Reach)),
              st.frozensets(st.integers(), max_size=3)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.tuples(children, children),
                               st.dictionaries(st.one_of(NASTY_STRINGS, st.integers()), children, max_size=3)),
    max_leaves=6)


@st.composite
def hostile_results(draw: st.DrawFn) -> LabResult:
    checks = []
    for index in range(draw(st.integers(1, 3))):
        findings = [Finding(draw(NASTY_STRINGS), draw(NASTY_STRINGS), draw(NASTY_STRINGS), draw(ANY_VALUE),
                            draw(ANY_VALUE), draw(st.none() | NASTY_STRINGS))
                    for _ in range(draw(st.integers(0, 6)))]
        checks.append(CheckResult(f"check-{index}", draw(NASTY_STRINGS), 1, draw(st.sampled_from(["visible", "hidden"])),
                                  findings, general_hint=draw(NASTY_STRINGS),
                                  skipped=draw(st.sampled_from(["", "not run"]) | NASTY_STRINGS)))
    routes = [Route(draw(NASTY_STRINGS), draw(NASTY_STRINGS), draw(NASTY_STRINGS), draw(st.sampled_from(list(Reach))),
                    draw(st.sampled_from(list(Reach))), detail=draw(NASTY_STRINGS))
              for _ in range(draw(st.integers(0, 2)))]
    return LabResult(draw(st.sampled_from(LABS) | NASTY_STRINGS), checks, draw(st.none() | NASTY_STRINGS), routes)


@HOSTILE
@given(result=hostile_results())
def test_every_renderer_is_well_formed_whatever_a_result_holds(result):
    assert_well_formed(result)


def test_a_finding_shows_a_hostile_value_on_one_line_and_short():
    finding = Finding("Service/w\x1b[0m\nPASS", "spec.x", "bad\r\nvalue", expected=float("nan"),
                      found="\ud800" + "x" * 5000, where="in.yaml\u202e")
    text = str(finding)
    assert "\n" not in text and "\x1b" not in text and "\\x1b[0m\\nPASS" in text and "\\ud800" in text
    assert "(5,001 characters)" in text and len(text) < 600 and "\\u202e" in text
    data = finding.as_dict()
    assert data["expected"] == "nan" and data["found"].startswith("\\ud800xxx")
    json.loads(json.dumps(data, allow_nan=False))
