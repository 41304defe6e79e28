"""JSONPath: compiled definite paths, the jsonpath-ng fallback, writes for ResultPath."""

from __future__ import annotations

import pytest

from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonpath import (
    InvalidPath,
    PathNotFound,
    bracketed,
    compile_path,
)

DOC = {"a": {"b": [10, {"c": "deep"}], "with space": 1, "dash-key": 2}, "items": [1, 2, 3]}


@pytest.mark.parametrize("text,value", [
    ("$", DOC),
    ("$.a.b[0]", 10),
    ("$.a.b[1].c", "deep"),
    ("$['a']['with space']", 1),
    ("$.a.dash-key", 2),
    ('$["a"].b[-1].c', "deep"),
])
def test_definite_paths_resolve_to_one_value(text: str, value: object) -> None:
    path = compile_path(text)
    assert path.definite
    assert path.get(DOC) == value


@pytest.mark.parametrize("text,value", [
    ("$.items[*]", [1, 2, 3]),
    ("$.items[1:]", [2, 3]),
    ("$.nothing[1:5].x", []),
    ("$..c", ["deep"]),
])
def test_indefinite_paths_give_every_match(text: str, value: object) -> None:
    path = compile_path(text)
    assert not path.definite
    assert path.get(DOC) == value


def test_missing_leaf_and_missing_parent_have_jaywy_messages() -> None:
    with pytest.raises(PathNotFound) as leaf:
        compile_path("$.a.nope").get(DOC)
    assert leaf.value.jayway_message() == "No results for path: $['a']['nope']"
    with pytest.raises(PathNotFound) as parent:
        compile_path("$.no.such.path").get(DOC)
    assert parent.value.jayway_message() == "Missing property in path $['no']"


def test_an_index_into_an_object_or_a_key_into_a_list_is_missing() -> None:
    assert not compile_path("$.a[0]").exists(DOC)
    assert not compile_path("$.items.x").exists(DOC)
    assert not compile_path("$.items[7]").exists(DOC)


def test_context_and_variable_roots() -> None:
    assert compile_path("$$.Execution.Id").root == "$$"
    variable = compile_path("$myVar.field[0]")
    assert variable.root == "myVar" and variable.steps == ("field", 0)
    with pytest.raises(InvalidPath):
        compile_path("$myVar", allow_variables=False)


@pytest.mark.parametrize("text", ["", "a.b", "$.a[", "$.a[?(@.x >]", 5])
def test_invalid_paths_are_rejected(text: object) -> None:
    with pytest.raises(InvalidPath):
        compile_path(text)  # type: ignore[arg-type]


def test_set_copies_only_the_containers_on_the_path() -> None:
    doc = {"keep": {"x": 1}, "a": {"b": 1}}
    out = compile_path("$.a.c").set(doc, 2)
    assert out == {"keep": {"x": 1}, "a": {"b": 1, "c": 2}}
    assert doc == {"keep": {"x": 1}, "a": {"b": 1}}
    assert out["keep"] is doc["keep"]


def test_set_creates_missing_objects_and_refuses_non_objects() -> None:
    assert compile_path("$.x.y").set({}, 1) == {"x": {"y": 1}}
    with pytest.raises(StatesError) as err:
        compile_path("$.x").set("a string", 1)
    assert err.value.error == "States.ResultPathMatchFailure"


def test_bracketed_form() -> None:
    assert bracketed(("a", 0, "b")) == "$['a'][0]['b']"
