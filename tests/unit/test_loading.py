"""Loading untrusted input: every unusable input is an `UnusableInput` with a message
naming the problem, and bombs are refused quickly."""

from __future__ import annotations

import time

import pytest

from course.errors import UnusableInput
from grader.loading import MAX_INPUT_BYTES, load_path, load_text

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
