"""What every state shares: its transition, its query language, input and output processing,
Assign, Retry and Catch.

Implements the common fields of https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html,
the data flow of https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
(JSONPath: InputPath -> Parameters -> result -> ResultSelector -> ResultPath -> OutputPath;
JSONata: Arguments -> result -> Output, see transforming-data.html) and the retriers and
catchers of concepts-error-handling.html.

A state object is immutable and compiled once; the per-run data lives in an ``EvalScope`` the
engine passes in. The definition parser (``asl.parser``) builds these from the JSON through
``Fields``, which records every problem as a diagnostic instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonata_ import UNDEFINED, Expression, undefined_error
from headwater.services.stepfunctions.asl.jsonpath import (
    InvalidPath,
    JsonPath,
    PathNotFound,
    compile_path,
)
from headwater.services.stepfunctions.asl.payload import (
    Const,
    EvalScope,
    Expr,
    Node,
    TemplateError,
    compile_jsonata_assign,
    compile_jsonata_template,
    compile_jsonpath_assign,
    compile_jsonpath_template,
)

JSONPATH = "JSONPath"
JSONATA = "JSONata"


class _Null:
    """``"InputPath": null`` and friends: an explicit null, unlike an absent field."""

    def __repr__(self) -> str:
        return "null"


NULL: Any = _Null()


@dataclass(frozen=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"  # or "FULL"

    def delay(self, attempt: int, random01: float) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        delay = self.interval_seconds * (self.backoff_rate ** (attempt - 1))
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        if self.jitter == "FULL":
            delay *= random01
        return delay


@dataclass(frozen=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: Any = None  # JsonPath, NULL (discard), or None (the default "$")
    assign: Node | None = None
    output: Node | None = None  # JSONata Output


class Fields:
    """Reads one state's JSON, remembering problems as (message, location) pairs."""

    def __init__(self, raw: dict[str, Any], location: str, problems: list[tuple[str, str]]):
        self.raw = raw
        self.location = location
        self.problems = problems

    def problem(self, message: str, where: str | None = None) -> None:
        self.problems.append((message, f"{self.location}/{where}" if where else self.location))

    def get(self, key: str, kind: type | tuple[type, ...], kind_name: str) -> Any:
        value = self.raw.get(key)
        if key in self.raw and (not isinstance(value, kind) or (
                isinstance(value, bool) and kind in (int, float, (int, float)))):
            self.problem(f"The value for the field '{key}' must be {kind_name}", key)
            return None
        return value

    def path(self, key: str, *, nullable: bool = False, reference: bool = False) -> Any:
        """A path field: None when absent, NULL for an explicit null (when allowed)."""
        if key not in self.raw:
            return None
        value = self.raw[key]
        if value is None:
            if nullable:
                return NULL
            self.problem(f"The value for the field '{key}' must be a STRING", key)
            return None
        try:
            path = compile_path(value)
        except InvalidPath:
            self.problem(f"The value for the field '{key}' must be a valid JSONPath", key)
            return None
        if reference and not path.definite:
            self.problem(f"The value for the field '{key}' must be a valid ReferencePath", key)
            return None
        return path

    def template(self, key: str, jsonata: bool) -> Node | None:
        if key not in self.raw:
            return None
        try:
            if jsonata:
                return compile_jsonata_template(self.raw[key], key)
            return compile_jsonpath_template(self.raw[key], key)
        except TemplateError as exc:
            self.problem(str(exc), key)
            return None

    def assign(self, jsonata: bool, raw: dict[str, Any] | None = None,
               where: str = "Assign") -> Node | None:
        source = self.raw if raw is None else raw
        if "Assign" not in source:
            return None
        try:
            if jsonata:
                return compile_jsonata_assign(source["Assign"])
            return compile_jsonpath_assign(source["Assign"])
        except TemplateError as exc:
            self.problem(str(exc), where)
            return None


@dataclass(eq=False)
class State:
    """A compiled state. Subclasses add their own fields and behaviour."""

    TYPE: ClassVar[str] = ""
    # Fields a state of this type may carry; the parser reports any other as not allowed.
    ALLOWED: ClassVar[frozenset[str]] = frozenset()

    name: str
    query_language: str
    next: str | None = None
    end: bool = False
    input_path: Any = None
    output_path: Any = None
    result_path: Any = None
    parameters: Node | None = None  # Parameters (JSONPath) or Arguments (JSONata)
    result_selector: Node | None = None
    assign: Node | None = None
    output: Node | None = None  # JSONata Output
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()
    location: str = ""
    # Precomputed for the engine's hot loop.
    entered_type: str = field(default="", init=False)
    exited_type: str = field(default="", init=False)
    jsonata: bool = field(default=False, init=False)
    trivial_io: bool = field(default=False, init=False)
    retriable: bool = field(default=False, init=False)  # has $$.State.RetryCount

    def __post_init__(self) -> None:
        self.entered_type = f"{self.TYPE}StateEntered"
        self.exited_type = f"{self.TYPE}StateExited"
        self.jsonata = self.query_language == JSONATA
        self.retriable = self.TYPE in ("Task", "Map", "Parallel")
        self.trivial_io = (
            not self.jsonata and self.input_path is None and self.output_path is None
            and self.result_path is None and self.parameters is None
            and self.result_selector is None and self.assign is None
        )

    # ----- input processing -------------------------------------------------------------

    def effective_input(self, scope: EvalScope, raw: Any) -> Any:
        """InputPath then Parameters (JSONPath) or Arguments (JSONata)."""
        if self.jsonata:
            return raw if self.parameters is None else self.parameters.evaluate(scope)
        value = self.apply_input_path(scope, raw)
        if self.parameters is not None:
            scope.input = value
            value = self.parameters.evaluate(scope)
        return value

    def apply_input_path(self, scope: EvalScope, raw: Any) -> Any:
        path = self.input_path
        if path is None:
            return raw
        if path is NULL:
            return {}
        return _select(scope, path, raw)

    # ----- output processing ------------------------------------------------------------

    def finish(self, scope: EvalScope, raw_input: Any, result: Any,
               default_output: Any = UNDEFINED) -> tuple[Any, dict[str, Any] | None]:
        """ResultSelector, Assign, ResultPath and OutputPath (JSONPath), or Assign and Output
        (JSONata). Returns the state output and the variables to assign (or None).

        Assign is evaluated against the same data as the output, *before* any assignment of
        this state is visible, as AWS specifies.
        """
        if self.jsonata:
            return self._finish_jsonata(scope, result, default_output)
        if self.result_selector is not None:
            scope.input = result
            result = self.result_selector.evaluate(scope)
        assigned = None
        if self.assign is not None:
            scope.input = result
            assigned = self.assign.evaluate(scope)
        output = apply_result_path(self.result_path, raw_input, result)
        output = self.apply_output_path(scope, output)
        return output, assigned

    def _finish_jsonata(self, scope: EvalScope, result: Any,
                        default_output: Any) -> tuple[Any, dict[str, Any] | None]:
        scope.set_result(result)
        assigned = None if self.assign is None else self.assign.evaluate(scope)
        if self.output is not None:
            output = self.output.evaluate(scope)
        else:
            output = result if default_output is UNDEFINED else default_output
        return output, assigned

    def apply_output_path(self, scope: EvalScope, output: Any) -> Any:
        path = self.output_path
        if path is None:
            return output
        if path is NULL:
            return {}
        return _select(scope, path, output)

    @property
    def terminal(self) -> bool:
        return self.end


def apply_result_path(result_path: Any, raw_input: Any, result: Any) -> Any:
    if result_path is None:
        return result
    if result_path is NULL:
        return raw_input
    path: JsonPath = result_path
    if not path.steps:
        return result
    return path.set(raw_input, result)


def _select(scope: EvalScope, path: JsonPath, doc: Any) -> Any:
    try:
        if path.root == "$":
            return path.get(doc)
        return scope.resolve(path)
    except PathNotFound as exc:
        raise StatesError(
            errors.RUNTIME, f"Invalid path '{path.text}' : {exc.jayway_message()}"
        ) from None


def evaluate_expression_field(scope: EvalScope, node: Node, field_name: str) -> Any:
    """An Expr/Const field (JSONata), with AWS's 'returned nothing' message when undefined."""
    if isinstance(node, Const):
        return node.value
    value = node.evaluate(scope)
    if value is UNDEFINED and isinstance(node, Expr):
        raise undefined_error(node.expression, field_name)
    return value


__all__ = [
    "JSONATA",
    "JSONPATH",
    "NULL",
    "Catcher",
    "Expression",
    "Fields",
    "Retrier",
    "State",
    "apply_result_path",
]
