"""Loading untrusted input: every unusable input is an `UnusableInput` with a message
naming the problem, and bombs are refused quickly."""

from __future__ import annotations

import os
import time

import pytest

from course.errors import UnusableInput
from grader.loading import MAX_INPUT_BYTES, MAX_OBJECTS, MAX_VALUES, load_path, load_text

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n"


def refused(data, *words):
    with pytest.raises(UnusableInput) as caught:
        load_text(data, "in.yaml")
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_multi_document_with_empty_documents():
    manifests = load_text("---\n" + SERVICE + "---\n---\n" + SERVICE.replace("web", "api"), "in.yaml")
    assert [m.ref for m in manifests] == ["Service/web", "Service/api"]
    assert manifests[1].source.document == 3 and manifests[1].source.line == 8


def test_kind_list_is_flattened():
    manifests = load_text("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n", "x")
    assert [m.ref for m in manifests] == ["Service/a"]


@pytest.mark.parametrize("data, words", [
    (b"", ["empty input"]),
    (b"   \n# only a comment\n", ["no Kubernetes objects", "comments"]),
    (b"---\n---\n", ["no Kubernetes objects"]),
    (b"\xff\xfeapiVersion", ["not UTF-8", "0xff", "offset 0"]),
    (b"\x00\x01\x02ELF", ["binary"]),
    (b"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n   labels: x\n", ["syntax error", "line 5"]),
    (b"apiVersion: v1\nkind: [Service\n", ["syntax error", "line"]),
    (b"- a\n- b\n", ["a list", "expected a mapping"]),
    (b"just text\n", ["a string"]),
    (b"kind: Service\nmetadata: {name: x}\n", ["no apiVersion"]),
    (b"apiVersion: v1\nmetadata: {name: x}\n", ["no kind"]),
    (b"apiVersion: v1\nkind: List\nitems: 3\n", ["items"]),
    (b"apiVersion: v1\nkind: List\nitems: [3]\n", ["items[0]", "expected a mapping"]),
    (b'{"apiVersion": "v1", "kind": ', ["JSON syntax error", "line 1"]),
    (b"[1, 2]", ["a list"]),
])
def test_unusable_input_is_named(data, words):
    refused(data, *words)


def test_billion_laughs_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
    started = time.process_time()
    refused(bomb, "refused", "aliases")
    assert time.process_time() - started < 1.0  # CPU time, not wall-clock: a guard against expansion


def test_deep_nesting_is_refused():
    refused("a: " + "[" * 500 + "]" * 500, "refused", "nesting")
    refused(b'{"apiVersion": "v1", "kind": "X", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "refused", "nesting")


def test_oversized_input_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_INPUT_BYTES + 10))
    with pytest.raises(UnusableInput, match="larger than"):
        load_path(big)


def test_missing_path_and_empty_directory(tmp_path):
    with pytest.raises(UnusableInput, match="no such file"):
        load_path(tmp_path / "nope.yaml")
    with pytest.raises(UnusableInput, match=r"no \.yaml"):
        load_path(tmp_path)


# Issue #10, the static path: each class of malformed input is one message naming
# where, never a traceback, and what Kubernetes refuses is refused here too.

PADDING = "#" * 9000 + "\n"  # past the first 8 KiB the loader used to check


@pytest.mark.parametrize("data, words", [
    ((SERVICE + PADDING + "# \x00\n").encode(), ["binary", "NUL byte at offset"]),
    ((SERVICE + PADDING + "# \x90\n").encode(), ["U+0090", "control character", "line 6, column 3"]),
    ((SERVICE + PADDING + "# \x7f\n").encode(), ["U+007F", "line 6"]),
    ((SERVICE + PADDING + "# \x1b[31m\n").encode(), ["U+001B", "line 6"]),
])
def test_reader_errors_anywhere_are_one_message(data, words):
    message = refused(data, *words)
    assert "\x1b" not in message and "\x90" not in message


def test_deep_json_under_the_recursion_limit_is_refused_without_recursion():
    for depth in (65, 300, 600, 900):
        refused(b'{"apiVersion": "v1", "kind": "X", "a": ' + b"[" * depth + b"]" * depth + b"}", "refused", "nesting")
    depth64 = b'{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "a": ' + b"[" * 62 + b"]" * 62 + b"}"
    assert load_text(depth64, "in.json")[0].name == "x"


def test_aliases_cannot_nest_deeper_than_the_limit_or_loop():
    chain = "a0: &a0 [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
    for level in range(1, 4):
        chain += f"a{level}: &a{level} [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a{level - 1}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
    refused("apiVersion: v1\nkind: Service\n" + chain, "refused", "nesting deeper than 64", "aliases")
    refused("apiVersion: v1\nkind: Service\nspec: &loop {again: *loop}\n", "refused", "cycle")


@pytest.mark.parametrize("value", ["9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000, "0b" + "1" * 200,
                                   "07" + "7" * 200, "1" + ":30" * 60, "9223372036854775808", "0x8000000000000000"])
def test_huge_yaml_integers_are_refused_before_conversion(value):
    started = time.process_time()
    message = refused(f"apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{port: {value}}}]}}\n",
                      "refused", "64 bits", "line 4")
    assert len(message) < 400 and time.process_time() - started < 1.0


def test_int64_bounds_are_accepted():
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {a: 9223372036854775807, b: -9223372036854775808}\n"
    assert load_text(text, "in.yaml")[0].body["spec"] == {"a": 2**63 - 1, "b": -(2**63)}


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 5000, "18446744073709551616"])
def test_huge_json_integers_are_refused_with_their_position(number):
    data = '{"apiVersion": "v1", "kind": "Service",\n "spec": {"ports": [{"port": ' + number + "}]}}"
    refused(data, "refused", "64 bits", "line 2, column 30")


@pytest.mark.parametrize("data, words", [
    ("apiVersion: v1\nkind: Service\nspec: {port: .nan}\n", [".nan", "NaN", "line 3"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: -.inf}\n", ["-.inf", "infinity"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: 1.0e+999}\n", ["1.0e+999", "infinity"]),
    ('{"apiVersion": "v1", "kind": "Service",\n"spec": {"port": NaN}}', ["NaN", "line 2, column 18"]),
    ('{"apiVersion": "v1", "kind": "Service", "spec": {"port": -Infinity}}', ["Infinity", "column 58"]),
    ('{"apiVersion": "v1", "kind": "Service", "spec": {"port": 1e999}}', ["1e999", "too large"]),
])
def test_nan_and_infinities_are_refused(data, words):
    refused(data, "refused", *words)


@pytest.mark.parametrize("data, words", [
    ("apiVersion: v1\nkind: Service\nspec: {selector: !!binary aGVsbG8=}\n", ["!!binary", "line 3, column 18"]),
    ("apiVersion: v1\nkind: Service\nspec: {selector: !!set {a, b}}\n", ["!!set"]),
    ("apiVersion: v1\nkind: Service\nspec: !!omap [a: 1]\n", ["!!omap"]),
    ("apiVersion: v1\nkind: Service\nspec: !!pairs [a: 1]\n", ["!!pairs"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: !!int abc}\n", ["abc", "not an integer"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: !!int ''}\n", ["not an integer"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: !!float abc}\n", ["not a number"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: !!bool maybe}\n", ["not a boolean"]),
    ("apiVersion: v1\nkind: Service\nspec: {[a, b]: 1}\n", ["key"]),
    ("apiVersion: v1\nkind: Service\nspec: !!map [a, b]\n", ["expected a mapping", "line 3"]),
    ("apiVersion: v1\nkind: Service\nspec: !!map abc\n", ["expected a mapping", "line 3"]),
    ("apiVersion: v1\nkind: Service\nspec: {<<: 5}\n", ["merging", "line 3"]),
])
def test_yaml_values_json_cannot_hold_are_refused(data, words):
    refused(data, *words)


def test_timestamps_stay_the_text_written_and_keys_become_strings():
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {day: 2024-01-01}}\n"
            "data: {2024-01-02 10:00:00: a, 8080: b, true: c, null: d, 1.5: e}\n")
    body = load_text(text, "in.yaml")[0].body
    assert body["metadata"]["labels"] == {"day": "2024-01-01"}
    assert body["data"] == {"2024-01-02 10:00:00": "a", "8080": "b", "true": "c", "null": "d", "1.5": "e"}


@pytest.mark.parametrize("data, words", [
    ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nmetadata: {name: api}\n",
     ['duplicate key "metadata"', "already set at line 3", "line 4, column 1"]),
    ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {a: 1, a: 2}\n",
     ['duplicate key "a"', "line 5"]),
    ("apiVersion: v1\nkind: Service\ndata: {8080: a, '8080': b}\n", ['duplicate key "8080"']),
    ('{"apiVersion": "v1", "kind": "Service",\n "metadata": {"name": "web", "name": "api"}}',
     ['duplicate key "name"', "line 2, column 14"]),
])
def test_duplicate_keys_are_refused_with_the_line(data, words):
    refused(data, "refused", "kubectl refuses duplicate keys", *words)


def test_a_merge_key_may_be_overridden():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbase: &b {x: 1, y: 2}\ndata:\n  <<: *b\n  x: 3\n"
    assert load_text(text, "in.yaml")[0].body["data"] == {"x": 3, "y": 2}


def test_the_same_object_twice_is_refused_naming_both_documents(tmp_path):
    second = SERVICE.replace("{app: web}", "{app: api}")
    message = refused(SERVICE + "---\n" + second, "Service/web", "submitted twice", "in.yaml, document 1, line 1",
                      "in.yaml, document 2, line 6", "keep one")
    assert "Traceback" not in message
    refused("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
            "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n", "items[0]", "items[1]")
    (tmp_path / "a.yaml").write_text(SERVICE)
    (tmp_path / "b.yaml").write_text(SERVICE)
    with pytest.raises(UnusableInput, match=r"a\.yaml, document 1, line 1 and .*b\.yaml, document 1, line 1"):
        load_path(tmp_path)
    # Other namespaces, other kinds and unnamed objects are other objects.
    other = SERVICE.replace("{name: web}", "{name: web, namespace: other}")
    assert len(load_text(SERVICE + "---\n" + other + "---\n" + SERVICE.replace("Service", "ConfigMap"), "x")) == 3


def test_a_submission_folder_reads_regular_files_only(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "web.yaml").write_text(SERVICE)
    outside = tmp_path / "secret.yaml"
    outside.write_text(SERVICE.replace("web", "secret-value"))
    (folder / "z.yaml").symlink_to(outside)
    with pytest.raises(UnusableInput, match=r"z\.yaml: a symbolic link") as caught:
        load_path(folder)
    assert "secret-value" not in str(caught.value)
    (folder / "z.yaml").unlink()
    (folder / "z.yaml").symlink_to("/proc/kmsg")  # never opened: it would block
    with pytest.raises(UnusableInput, match="symbolic link"):
        load_path(folder)
    (folder / "z.yaml").unlink()
    os.mkfifo(folder / "z.yaml")  # never waited on
    with pytest.raises(UnusableInput, match=r"z\.yaml: not a regular file \(a named pipe\)"):
        load_path(folder)
    (folder / "z.yaml").unlink()
    (folder / "sub.yaml").mkdir()  # a folder is skipped, whatever its name
    assert [m.ref for m in load_path(folder)] == ["Service/web"]


def test_a_named_file_may_be_a_pipe(tmp_path):
    read, write = os.pipe()
    os.write(write, SERVICE.encode())
    os.close(write)
    try:
        assert [m.ref for m in load_path(f"/dev/fd/{read}")] == ["Service/web"]
    finally:
        os.close(read)


def test_the_whole_submission_is_capped(tmp_path):
    padding = "#" * (MAX_INPUT_BYTES // 2) + "\n"
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(SERVICE.replace("web", name) + padding)
    with pytest.raises(UnusableInput, match=r"add up to more than 1 MiB \(at b\.yaml\)"):
        load_path(tmp_path)
    objects = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(MAX_OBJECTS + 1))
    refused(objects, "more than 1,000")
    items = ", ".join(f"{{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}}}" for i in range(MAX_OBJECTS + 1))
    refused(f"apiVersion: v1\nkind: List\nitems: [{items}]\n", "more than 1,000 Kubernetes objects")
    assert len(load_text(objects.rsplit("---\n", 1)[0], "x")) == MAX_OBJECTS
    refused("a: [" + "1, " * (MAX_VALUES + 1) + "]\n", "more than 200,000 values")
    refused("[" + "0," * MAX_VALUES + "0]", "more than 200,000 values")


@pytest.mark.parametrize("data, words", [
    (SERVICE, []),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nmetadata: {name: api}\n", ["duplicate key", "line 4"]),
    ("a: " + "[" * 100 + "]" * 100, ["nesting deeper than 64"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: 0x" + "f" * 200 + "}\n", ["64 bits"]),
    ("apiVersion: v1\nkind: Service\nspec: {port: .nan}\n", ["NaN"]),
])
def test_the_pure_python_parser_behaves_the_same(monkeypatch, data, words):
    """Where PyYAML has no libyaml, its own parser feeds the same guarded composer."""
    import grader.loading

    monkeypatch.setattr(grader.loading, "_FastEvents", None)
    if not words:
        assert [m.ref for m in load_text(data, "in.yaml")] == ["Service/web"]
    else:
        refused(data, *words)


def test_unreadable_paths_are_one_message():
    with pytest.raises(UnusableInput, match=r"a\\x00b: cannot read it \(embedded null byte\)"):
        load_path("a\x00b")
    with pytest.raises(UnusableInput, match=r"\(5,000 characters\): cannot read it \(File name too long\)"):
        load_path("x" * 5000)
