"""Definition parsing and validation: AWS's diagnostics, and a fuzzed validator that only ever
reports diagnostics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.services.stepfunctions.asl import (
    InvalidDefinition,
    parse_definition,
    validate_definition,
)
from headwater.services.stepfunctions.asl.states.composite import Map
from headwater.services.stepfunctions.asl.states.flow import Pass


def codes(definition: Any) -> list[tuple[str, str | None]]:
    return [(d.code, d.location) for d in validate_definition(definition)]


def test_a_valid_definition_compiles_once_into_states() -> None:
    program = parse_definition(json.dumps({
        "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"x.$": "$.a"}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
                "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": True},
        }}))
    assert isinstance(program.states["P"], Pass)
    mapped = program.states["M"]
    assert isinstance(mapped, Map) and mapped.processor is not None
    assert mapped.processor.start_at == "I"


@pytest.mark.parametrize("definition,expected", [
    ("{not json", [("INVALID_JSON_DESCRIPTION", None)]),
    ({"States": {}}, [("SCHEMA_VALIDATION_FAILED", None)]),
    ({"StartAt": "X", "States": {"A": {"Type": "Succeed"}}},
     [("MISSING_TRANSITION_TARGET", "/StartAt")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}},
     [("MISSING_TRANSITION_TARGET", "/States/A/Next")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Nope"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Type")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}},
     [("UNREACHABLE_STATE", "/States/B")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Bogus")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "InputPath": "nope"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/InputPath")]),
    ({"StartAt": "A", "QueryLanguage": "JSONata",
      "States": {"A": {"Type": "Pass", "End": True, "InputPath": "$"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/InputPath")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                       "Parameters": {"x.$": "States.Nope()"}}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": True}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "not-an-arn", "End": True}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Resource")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [
        {"Variable": "$.x", "Next": "A"}]}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Choices/0")]),
    ({"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {
        "Type": "Pass", "End": True, "Output": "{% [1, %}"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Output")]),
])
def test_diagnostics(definition: Any, expected: list[tuple[str, str | None]]) -> None:
    assert codes(definition) == expected


def test_invalid_definition_error_carries_aws_message() -> None:
    with pytest.raises(InvalidDefinition) as err:
        parse_definition({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    assert err.value.code == "InvalidDefinition"
    assert err.value.message == ("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: "
                                 "Missing 'Next' target: B at /States/A/Next'")


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(
        ["$", "$.a", "$$", "States.Array()", "{% 1 %}", "A", "B", "Pass", "Task", "Map",
         "Choice", "Wait", "Parallel", "Fail", "Succeed", "JSONata", "JSONPath"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from([
        "Type", "Next", "End", "StartAt", "States", "Parameters", "Result", "ResultPath",
        "InputPath", "Choices", "Variable", "NumericEquals", "Default", "Seconds", "Branches",
        "ItemProcessor", "Iterator", "Resource", "Retry", "Catch", "ErrorEquals", "A", "B",
        "x.$", "Assign", "Output", "Arguments", "QueryLanguage", "Items", "Condition",
    ]), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_the_validator_never_raises(definition: Any) -> None:
    diagnostics = validate_definition(json.dumps(definition))
    assert all(d.code and d.message for d in diagnostics)
    try:
        parse_definition(json.dumps(definition))
    except InvalidDefinition:
        pass


def _codes_and_messages(definition: Any) -> list[tuple[str, str]]:
    from headwater.services.stepfunctions.asl.parser import validate_definition

    return [(d.code, d.message) for d in validate_definition(definition)]


def test_deeply_nested_jsonata_is_a_diagnostic_not_a_crash() -> None:
    expression = "{% " + "(" * 3000 + "1" + ")" * 3000 + " %}"
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": expression, "End": True}},
    }
    found = _codes_and_messages(definition)
    assert found and found[0][0] == "SCHEMA_VALIDATION_FAILED"
    assert "nested too deeply" in found[0][1]


def test_deeply_nested_definition_json_is_a_diagnostic_not_a_crash() -> None:
    text = (
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Result": '
        + "[" * 100_000
        + "]" * 100_000
        + "}}}"
    )
    assert _codes_and_messages(text)


def test_deeply_nested_intrinsic_is_a_diagnostic_not_a_crash() -> None:
    call = "States.Array(" * 2000 + "1" + ")" * 2000
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"x.$": call}, "End": True}},
    }
    assert _codes_and_messages(definition)
