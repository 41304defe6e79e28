"""Definition text -> :class:`Program`, or AWS's diagnostics for why it is not one.

Implements the structure rules of
https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html and the
``ValidateStateMachineDefinition`` diagnostics (``SCHEMA_VALIDATION_FAILED``,
``INVALID_JSON_DESCRIPTION``, ``MISSING_TRANSITION_TARGET``, ...). Everything that can be
compiled is compiled here, once: paths, templates, intrinsic calls, JSONata expressions and
choice rules. Parsing never raises anything but :class:`InvalidDefinition`.
"""

from __future__ import annotations

from typing import Any

import orjson

from headwater.services.stepfunctions.asl import choice as rules
from headwater.services.stepfunctions.asl.errors import Diagnostic, InvalidDefinition
from headwater.services.stepfunctions.asl.jsonata_ import (
    Expression,
    JsonataSyntaxError,
    is_expression,
)
from headwater.services.stepfunctions.asl.payload import (
    Const,
    Expr,
    Node,
    TemplateError,
    dynamic_field,
)
from headwater.services.stepfunctions.asl.program import Branch, Program
from headwater.services.stepfunctions.asl.states import fields as F
from headwater.services.stepfunctions.asl.states.base import (
    JSONATA,
    JSONPATH,
    Catcher,
    Fields,
    Retrier,
    State,
)
from headwater.services.stepfunctions.asl.states.choice import Choice, ChoiceRule
from headwater.services.stepfunctions.asl.states.composite import Parallel
from headwater.services.stepfunctions.asl.states.flow import Fail, Pass, Succeed, Wait
from headwater.services.stepfunctions.asl.states.task import Task, parse_resource

MAX_DEFINITION_BYTES = 1024 * 1024
MAX_STATE_NAME = 80
_STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")


def parse_definition(definition: str | bytes | dict[str, Any]) -> Program:
    """The compiled program; raises :class:`InvalidDefinition` listing every problem."""
    program, diagnostics = _parse(definition)
    if program is None or any(d.severity == "ERROR" for d in diagnostics):
        raise InvalidDefinition(diagnostics)
    return program


def validate_definition(definition: str | bytes | dict[str, Any]) -> list[Diagnostic]:
    """ValidateStateMachineDefinition: the diagnostics (empty when the definition is valid)."""
    return _parse(definition)[1]


def _parse(definition: str | bytes | dict[str, Any]) -> tuple[Program | None, list[Diagnostic]]:
    if isinstance(definition, (str, bytes)):
        raw_bytes = definition.encode() if isinstance(definition, str) else definition
        if len(raw_bytes) > MAX_DEFINITION_BYTES:
            return None, [Diagnostic("ERROR", "SCHEMA_VALIDATION_FAILED",
                                     "The definition is larger than 1048576 bytes")]
        try:
            doc = orjson.loads(raw_bytes)
        except orjson.JSONDecodeError as exc:
            return None, [Diagnostic("ERROR", "INVALID_JSON_DESCRIPTION", str(exc))]
    else:
        doc = definition
    if not isinstance(doc, dict):
        return None, [Diagnostic("ERROR", "SCHEMA_VALIDATION_FAILED",
                                 "The definition must be a JSON object")]
    parser = _Parser()
    try:
        program = parser.program(doc)
    except RecursionError:
        return None, [Diagnostic("ERROR", "SCHEMA_VALIDATION_FAILED",
                                 "The definition is nested too deeply")]
    return program, parser.diagnostics()


class _Parser:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.missing: list[tuple[str, str]] = []
        self.unreachable: list[tuple[str, str]] = []

    def diagnostics(self) -> list[Diagnostic]:
        out = [Diagnostic("ERROR", "SCHEMA_VALIDATION_FAILED", m, loc or None)
               for m, loc in self.problems]
        out += [Diagnostic("ERROR", "MISSING_TRANSITION_TARGET", m, loc) for m, loc in
                self.missing]
        out += [Diagnostic("ERROR", "UNREACHABLE_STATE", m, loc) for m, loc in self.unreachable]
        return out

    def program(self, doc: dict[str, Any]) -> Program | None:
        language = self._language(doc, JSONPATH, "")
        allowed = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
        for key in doc:
            if key not in allowed:
                self.problems.append((f"These fields are not allowed: [{key}]", ""))
        timeout = doc.get("TimeoutSeconds")
        if timeout is not None and (type(timeout) is not int or timeout <= 0):
            self.problems.append((
                "The value for the field 'TimeoutSeconds' must be a positive integer",
                "/TimeoutSeconds"))
            timeout = None
        branch = self.branch(doc, language, "")
        if branch is None:
            return None
        comment = doc.get("Comment") if isinstance(doc.get("Comment"), str) else None
        return Program(branch.start_at, branch.states, language, "", timeout, comment, doc)

    def _language(self, doc: dict[str, Any], default: str, location: str) -> str:
        value = doc.get("QueryLanguage", default)
        if value not in (JSONPATH, JSONATA):
            self.problems.append((
                "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]",
                f"{location}/QueryLanguage"))
            return default
        return str(value)

    def branch(self, doc: Any, language: str, location: str) -> Branch | None:
        if not isinstance(doc, dict):
            self.problems.append(("The value must be an OBJECT", location))
            return None
        missing = [k for k in ("StartAt", "States") if k not in doc]
        if missing:
            self.problems.append((f"These fields are required: [{', '.join(missing)}]", location))
            return None
        start_at, raw_states = doc["StartAt"], doc["States"]
        if not isinstance(start_at, str):
            self.problems.append(("The value for the field 'StartAt' must be a STRING",
                                  f"{location}/StartAt"))
            return None
        if not isinstance(raw_states, dict) or not raw_states:
            self.problems.append(("The field 'States' must be a non-empty OBJECT",
                                  f"{location}/States"))
            return None
        states: dict[str, State] = {}
        for name, raw in raw_states.items():
            state = self.state(name, raw, language, f"{location}/States/{name}")
            if state is not None:
                states[name] = state
        if start_at not in raw_states:
            self.missing.append((f"Missing 'Next' target: {start_at}", f"{location}/StartAt"))
            return None
        self._check_transitions(states, raw_states, start_at, location)
        return Branch(start_at, states, language, location)

    def _check_transitions(self, states: dict[str, State], raw_states: dict[str, Any],
                           start_at: str, location: str) -> None:
        for state in states.values():
            for target, where in _targets(state):
                if target not in raw_states:
                    self.missing.append((f"Missing 'Next' target: {target}",
                                         f"{state.location}/{where}"))
        seen = {start_at}
        todo = [start_at]
        while todo:
            current = states.get(todo.pop())
            if current is None:
                continue
            for target, _ in _targets(current):
                if target in raw_states and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for name in raw_states:
            if name not in seen:
                self.unreachable.append((f"State \"{name}\" is not reachable.",
                                         f"{location}/States/{name}"))

    def state(self, name: str, raw: Any, default_language: str, location: str) -> State | None:
        if len(name) > MAX_STATE_NAME or not name:
            self.problems.append((f"State name '{name[:100]}' must be 1 to 80 characters",
                                  location))
        if not isinstance(raw, dict):
            self.problems.append(("The value of a state must be an OBJECT", location))
            return None
        kind = raw.get("Type")
        if kind not in _STATE_TYPES:
            if "Type" not in raw:
                self.problems.append(("These fields are required: [Type]", location))
            else:
                message = f"The value for the field 'Type' must be one of {list(_STATE_TYPES)}"
                self.problems.append((message, f"{location}/Type"))
            return None
        language = self._language(raw, default_language, location)
        f = Fields(raw, location, self.problems)
        F.check_allowed(f, kind, language)
        common = self._common(f, kind, language)
        builder = getattr(self, f"_{kind.lower()}")
        built: State = builder(f, name, language, common)
        return built

    # ----- fields every state type may have ------------------------------------------

    def _common(self, f: Fields, kind: str, language: str) -> dict[str, Any]:
        jsonata = language == JSONATA
        common: dict[str, Any] = {"location": f.location}
        if kind not in ("Choice", "Succeed", "Fail"):
            nxt, end = f.raw.get("Next"), f.raw.get("End")
            if nxt is not None and end is not None:
                f.problem("Only one of 'Next' or 'End' can be specified")
            elif nxt is None and end is not True:
                f.problem("These fields are required: [Next | End]" if end is None else
                          "The value for the field 'End' must be true", None if end is None
                          else "End")
            if nxt is not None and not isinstance(nxt, str):
                f.problem("The value for the field 'Next' must be a STRING", "Next")
            else:
                common["next"] = nxt
            common["end"] = end is True
        if jsonata:
            if "Arguments" in f.raw and kind in ("Task", "Parallel"):
                common["parameters"] = f.template("Arguments", True)
            if "Output" in f.raw and kind != "Fail":
                common["output"] = f.template("Output", True)
        else:
            common["input_path"] = f.path("InputPath", nullable=True)
            common["output_path"] = f.path("OutputPath", nullable=True)
            if kind in ("Pass", "Task", "Parallel", "Map"):
                common["result_path"] = f.path("ResultPath", nullable=True, reference=True)
                if kind != "Map":
                    common["parameters"] = f.template("Parameters", False)
            if kind in ("Task", "Parallel", "Map"):
                common["result_selector"] = f.template("ResultSelector", False)
        if kind not in ("Succeed", "Fail"):
            common["assign"] = f.assign(jsonata)
        if kind in ("Task", "Parallel", "Map"):
            common["retriers"] = self._retriers(f)
            common["catchers"] = self._catchers(f, jsonata)
        return common

    def _retriers(self, f: Fields) -> tuple[Retrier, ...]:
        raw = f.get("Retry", list, "an ARRAY")
        out = []
        for i, item in enumerate(raw or ()):
            where = f"Retry/{i}"
            if not isinstance(item, dict):
                f.problem("A retrier must be an OBJECT", where)
                continue
            errors_ = _error_equals(f, item, where)
            try:
                retrier = Retrier(
                    errors_,
                    F.number(item, "IntervalSeconds", 1, minimum=1, integer=True),
                    F.number(item, "MaxAttempts", 3, minimum=0, integer=True),
                    F.number(item, "BackoffRate", 2.0, minimum=1.0),
                    F.number(item, "MaxDelaySeconds", None, minimum=1, integer=True),
                    F.choice(item, "JitterStrategy", ("FULL", "NONE"), "NONE"),
                )
            except ValueError as exc:
                f.problem(str(exc), where)
                continue
            extra = set(item) - {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                                 "MaxDelaySeconds", "JitterStrategy", "Comment"}
            for key in sorted(extra):
                f.problem(f"Field '{key}' is not supported", f"{where}/{key}")
            out.append(retrier)
        return tuple(out)

    def _catchers(self, f: Fields, jsonata: bool) -> tuple[Catcher, ...]:
        raw = f.get("Catch", list, "an ARRAY")
        out = []
        for i, item in enumerate(raw or ()):
            where = f"Catch/{i}"
            if not isinstance(item, dict):
                f.problem("A catcher must be an OBJECT", where)
                continue
            errors_ = _error_equals(f, item, where)
            nxt = item.get("Next")
            if not isinstance(nxt, str):
                f.problem("These fields are required: [Next]", where)
                continue
            sub = Fields(item, f"{f.location}/{where}", self.problems)
            result_path = None if jsonata else sub.path("ResultPath", nullable=True,
                                                        reference=True)
            output = sub.template("Output", True) if jsonata else None
            assign = sub.assign(jsonata)
            out.append(Catcher(errors_, nxt, result_path, assign, output))
        return tuple(out)

    # ----- one builder per state type ------------------------------------------------

    def _pass(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        has_result = "Result" in f.raw and language == JSONPATH
        return Pass(name, language, result=f.raw.get("Result"), has_result=has_result, **common)

    def _succeed(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        return Succeed(name, language, **common)

    def _fail(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        jsonata = language == JSONATA
        values: dict[str, Any] = {}
        for key in ("Error", "Cause"):
            if key + "Path" in f.raw and key in f.raw:
                f.problem(f"Only one of '{key}' or '{key}Path' can be specified")
            value = f.raw.get(key)
            if value is not None and not isinstance(value, str):
                f.problem(f"The value for the field '{key}' must be a STRING", key)
                value = None
            if jsonata and isinstance(value, str) and is_expression(value):
                values[key.lower()] = self._expression(f, value, key)
            else:
                values[key.lower()] = value
            if not jsonata and key + "Path" in f.raw:
                try:
                    values[key.lower() + "_path"] = dynamic_field(key + "Path",
                                                                  f.raw[key + "Path"])
                except TemplateError as exc:
                    f.problem(str(exc), key + "Path")
        return Fail(name, language, **values, **common)

    def _wait(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        jsonata = language == JSONATA
        given = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
                 if k in f.raw]
        if len(given) != 1:
            f.problem("Exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath' "
                      "must be specified")
        seconds: Any = f.raw.get("Seconds")
        timestamp: Any = f.raw.get("Timestamp")
        if jsonata and is_expression(seconds):
            seconds = self._expression(f, seconds, "Seconds")
        elif seconds is not None and (type(seconds) is not int or seconds < 0):
            f.problem("The value for the field 'Seconds' must be a non-negative INTEGER",
                      "Seconds")
        if jsonata and is_expression(timestamp):
            timestamp = self._expression(f, timestamp, "Timestamp")
        elif timestamp is not None:
            from headwater.services.stepfunctions.asl.timestamps import parse

            if parse(timestamp) is None:
                f.problem("The value for the field 'Timestamp' must be a valid ISO-8601 "
                          "timestamp", "Timestamp")
        return Wait(name, language, seconds=seconds, timestamp=timestamp,
                    seconds_path=None if jsonata else f.path("SecondsPath"),
                    timestamp_path=None if jsonata else f.path("TimestampPath"), **common)

    def _choice(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        jsonata = language == JSONATA
        raw = f.raw.get("Choices")
        if not isinstance(raw, list) or not raw:
            f.problem("The field 'Choices' must be a non-empty ARRAY", "Choices")
            raw = []
        choices = []
        for i, item in enumerate(raw):
            where = f"Choices/{i}"
            if not isinstance(item, dict) or not isinstance(item.get("Next"), str):
                f.problem("A choice rule must be an OBJECT with a 'Next'", where)
                continue
            try:
                test = rules.compile_condition(item.get("Condition")) if jsonata else (
                    rules.compile_rule(item))
            except rules.RuleError as exc:
                f.problem(str(exc), f"{where}/{exc.location}" if exc.location else where)
                continue
            sub = Fields(item, f"{f.location}/{where}", self.problems)
            output = sub.template("Output", True) if jsonata and "Output" in item else None
            choices.append(ChoiceRule(test, item["Next"], sub.assign(jsonata), output))
        default = f.raw.get("Default")
        if default is not None and not isinstance(default, str):
            f.problem("The value for the field 'Default' must be a STRING", "Default")
            default = None
        return Choice(name, language, choices=tuple(choices), default=default, **common)

    def _task(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        jsonata = language == JSONATA
        arn = f.raw.get("Resource")
        resource = None
        if not isinstance(arn, str):
            f.problem("These fields are required: [Resource]" if arn is None else
                      "The value for the field 'Resource' must be a STRING", "Resource")
        else:
            resource = parse_resource(arn)
            if resource is None:
                f.problem("Value is not a valid resource ARN", "Resource")
        values: dict[str, Any] = {}
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            attr = "timeout_seconds" if key == "TimeoutSeconds" else "heartbeat_seconds"
            value = f.raw.get(key)
            if key in f.raw and key + "Path" in f.raw:
                f.problem(f"Only one of '{key}' or '{key}Path' can be specified")
            if jsonata and isinstance(value, str) and is_expression(value):
                values[attr] = self._expression(f, value, key)
            elif value is not None and (type(value) is not int or value <= 0):
                f.problem(f"The value for the field '{key}' must be a positive INTEGER", key)
            else:
                values[attr] = value
            if not jsonata:
                values[attr + "_path"] = f.path(key + "Path")
        timeout, heartbeat = values.get("timeout_seconds"), values.get("heartbeat_seconds")
        if type(timeout) is int and type(heartbeat) is int and heartbeat >= timeout:
            f.problem("The value of 'HeartbeatSeconds' must be less than 'TimeoutSeconds'",
                      "HeartbeatSeconds")
        credentials = f.template("Credentials", jsonata) if "Credentials" in f.raw else None
        return Task(name, language, resource=resource, credentials=credentials, **values,
                    **common)

    def _parallel(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        raw = f.raw.get("Branches")
        if not isinstance(raw, list) or not raw:
            f.problem("The field 'Branches' must be a non-empty ARRAY", "Branches")
            raw = []
        branches = []
        for i, item in enumerate(raw):
            where = f"{f.location}/Branches/{i}"
            sub_language = self._language(item, language, where) if isinstance(item, dict) \
                else language
            branch = self.branch(item, sub_language, where)
            if branch is not None:
                branches.append(branch)
        return Parallel(name, language, branches=tuple(branches), **common)

    def _map(self, f: Fields, name: str, language: str, common: dict[str, Any]) -> State:
        return F.build_map(self, f, name, language, common)

    def _expression(self, f: Fields, value: str, key: str) -> Node | None:
        try:
            return Expr(Expression.from_template(value), key)
        except JsonataSyntaxError as exc:
            f.problem(f"The JSONata expression in '{key}' is invalid: {exc}", key)
            return Const(None)


def _error_equals(f: Fields, item: dict[str, Any], where: str) -> tuple[str, ...]:
    value = item.get("ErrorEquals")
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        f.problem("The field 'ErrorEquals' must be a non-empty ARRAY of STRING", where)
        return ()
    if "States.ALL" in value and len(value) > 1:
        f.problem("States.ALL must appear alone in 'ErrorEquals'", f"{where}/ErrorEquals")
    return tuple(value)


def _targets(state: State) -> list[tuple[str, str]]:
    out = []
    if state.next is not None:
        out.append((state.next, "Next"))
    for i, catcher in enumerate(state.catchers):
        out.append((catcher.next, f"Catch/{i}/Next"))
    if isinstance(state, Choice):
        for i, rule in enumerate(state.choices):
            out.append((rule.next, f"Choices/{i}/Next"))
        if state.default is not None:
            out.append((state.default, "Default"))
    return out
