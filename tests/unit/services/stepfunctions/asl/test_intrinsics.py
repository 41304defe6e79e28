"""Intrinsic functions: the parser (fuzzed), and each function's AWS behaviour."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.intrinsics import (
    IntrinsicSyntaxError,
    Literal,
    PathArg,
    parse,
)
from headwater.services.stepfunctions.asl.jsonpath import JsonPath


class Scope:
    def __init__(self, doc: Any, variables: dict[str, Any] | None = None) -> None:
        self.doc = doc
        self.variables = variables or {}

    def resolve(self, path: JsonPath) -> Any:
        if path.root == "$":
            return path.get(self.doc)
        if path.root == "$$":
            return path.get({"Execution": {"Name": "exec-1"}})
        return path.get(self.variables[path.root])


class Entropy:
    def uuid(self) -> str:
        return "00000000-0000-4000-8000-000000000001"

    def random_int(self, low: int, high: int, seed: int | None) -> int:
        return low


def call(text: str, doc: Any = None, **variables: Any) -> Any:
    return parse(text).evaluate(Scope(doc if doc is not None else {}, variables), Entropy())


def test_parse_tree() -> None:
    tree = parse("States.Format('a {} b', $.x, States.Array(1, -2.5, true, null))")
    assert tree.name == "Format"
    assert isinstance(tree.args[0], Literal) and tree.args[0].value == "a {} b"
    assert isinstance(tree.args[1], PathArg)
    inner = tree.args[2]
    assert [a.value for a in inner.args] == [1, -2.5, True, None]  # type: ignore[union-attr]


@pytest.mark.parametrize("text,expected", [
    ("States.Format('Hello {}, welcome to {}!', $.name, $.place)", "Hello Ann, welcome to Oz!"),
    ("States.Format('{} and {}', $.obj, $.none)", "{a=1, b=[]} and null"),
    ("States.Format('literal \\\\{\\\\} braces {}', 1)", "literal {} braces 1"),
    ("States.StringToJson('{\"a\": [1]}')", {"a": [1]}),
    ("States.JsonToString($.obj)", '{"a":1,"b":[]}'),
    ("States.Array()", []),
    ("States.ArrayPartition(States.Array(1,2,3,4,5), 2)", [[1, 2], [3, 4], [5]]),
    ("States.ArrayContains(States.Array(1,2), 2)", True),
    ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
    ("States.ArrayGetItem(States.Array('a','b'), 1)", "b"),
    ("States.ArrayLength(States.Array(1,2,3))", 3),
    ("States.ArrayUnique(States.Array(1,2,2,1.0,'1'))", [1, 2, "1"]),
    ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
    ("States.Hash('abc', 'SHA-1')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("States.JsonMerge($.obj, States.StringToJson('{\"a\":2}'), false)", {"a": 2, "b": []}),
    ("States.MathRandom(5, 10)", 5),
    ("States.MathAdd(1.5, 1.51)", 4),
    ("States.MathAdd(-1.5, 0)", -1),
    ("States.StringSplit(', , ,', ',')", [" ", " "]),
    ("States.StringSplit('This.is+a,test=string', '.+,=')",
     ["This", "is", "a", "test", "string"]),
    ("States.UUID()", "00000000-0000-4000-8000-000000000001"),
    ("States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0)", "exec"),
    ("States.Format('{}', $greeting.text)", "hi"),
])
def test_functions(text: str, expected: Any) -> None:
    doc = {"name": "Ann", "place": "Oz", "obj": {"a": 1, "b": []}, "none": None}
    assert call(text, doc, greeting={"text": "hi"}) == expected


@pytest.mark.parametrize("text", [
    "States.ArrayPartition(States.Array(1), 0)",
    "States.ArrayGetItem(States.Array(1), 3)",
    "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)",
    "States.Hash('x', 'SHA-3')",
    "States.Format('{} {}', 1)",
    "States.StringToJson('{not json')",
    "States.MathAdd('a', 1)",
    "States.ArrayRange(1, 5000, 1)",
])
def test_bad_arguments_fail_with_intrinsic_failure(text: str) -> None:
    with pytest.raises(StatesError) as err:
        call(text)
    assert err.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize("text", [
    "States.Nope()", "States.Format(", "States.Format('a'", "States.Array(1,)",
    "States.Array(1 2)", "Array(1)", "States.Format('unterminated)", "States.Array($.)",
    "States.Array(nan)",
])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(IntrinsicSyntaxError):
        parse(text)


_pieces = st.sampled_from([
    "States.", "Format", "Array", "MathAdd", "StringSplit", "(", ")", ",", " ", "'", "\\'",
    "\\", "{}", "$", "$$", ".a", "[0]", "[", "]", "1", "-2.5", "true", "null", "x", "States.UUID()",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=25).map("".join) | st.text(max_size=60))
def test_the_parser_only_ever_raises_syntax_errors(text: str) -> None:
    try:
        tree = parse(text)
    except IntrinsicSyntaxError:
        return
    try:
        tree.evaluate(Scope({"a": [1]}), Entropy())
    except StatesError:
        pass
    except Exception as exc:
        if type(exc).__name__ != "PathNotFound":
            raise
