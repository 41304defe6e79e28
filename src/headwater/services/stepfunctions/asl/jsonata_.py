"""JSONata in state machines: ``{% expression %}`` strings, compiled once per definition.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html : the
``$states`` reserved variable (``input``, ``context``, ``result``, ``errorOutput``), workflow
variables as ``$name``, and the functions Step Functions adds to JSONata (``$partition``,
``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``). Expressions run on the
``jsonata-python`` package; ``$now()``/``$millis()`` read the engine's injected clock.

Not here: which fields accept expressions (the state modules) and the templates that hold
them (``payload``).
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any, Protocol

import jsonata
from jsonata import utils as jsonata_utils

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.values import from_json, to_json, type_name

UNDEFINED: Any = object()  # what an expression that "returned nothing" gives back
_NULL = jsonata_utils.Utils.NULL_VALUE
_JLambda = jsonata.Jsonata.JLambda

MAX_EXPRESSION_LENGTH = 100_000
MAX_NESTING = 200


class JsonataSyntaxError(ValueError):
    """The expression does not parse (a definition error)."""


class Runtime(Protocol):
    """What expressions need from the engine: time and randomness, injected."""

    def now(self) -> float: ...

    def uuid(self) -> str: ...

    def random_float(self, seed: int | None) -> float: ...


def is_expression(value: Any) -> bool:
    """A whole string of the form ``{% ... %}`` (AWS takes nothing around the braces)."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and (
        len(value) >= 4
    )


class Expression:
    """One compiled JSONata expression (the text between ``{%`` and ``%}``)."""

    __slots__ = ("_compiled", "constant", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise JsonataSyntaxError("the expression is too long")
        if _nesting(text) > MAX_NESTING:
            raise JsonataSyntaxError("the expression is nested too deeply")
        try:
            self._compiled = jsonata.Jsonata(text)
        except RecursionError:
            raise JsonataSyntaxError("the expression is nested too deeply") from None
        except Exception as exc:  # noqa: BLE001 - the parser raises several kinds
            raise JsonataSyntaxError(str(exc)) from None
        self._compiled.set_output_convert_nulls(False)
        self.constant = False

    @classmethod
    def from_template(cls, value: str) -> Expression:
        return cls(value[2:-2].strip())

    def evaluate(self, bindings: dict[str, Any], runtime: Runtime,
                 field: str | None = None) -> Any:
        """The value, or :data:`UNDEFINED`; a failing expression raises ``StatesError``."""
        env = {name: (_NULL if value is None else value) for name, value in bindings.items()}
        env.update(_functions(runtime))
        try:
            result = self._compiled.evaluate(None, env)
        except StatesError:
            raise
        except RecursionError:
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{self.text}' is nested too deeply.",
                evaluation=True,
            ) from None
        except Exception as exc:  # noqa: BLE001 - anything the evaluator throws is the user's
            raise self._failure(exc, field) from None
        if result is None:
            return UNDEFINED
        return _plain(result)

    def _failure(self, exc: Exception, field: str | None) -> StatesError:
        code = getattr(exc, "error", None)
        detail = f"{code}: {exc}" if code else str(exc)
        where = f" specified for the field '{field}'" if field else ""
        return StatesError(
            errors.QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{self.text}'{where} threw an error during evaluation. "
            f"{detail}",
            evaluation=True,
        )


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _plain(value: Any) -> Any:
    """jsonata-python's result as plain JSON values (its null marker and list subclasses out),
    copying only the containers that need it."""
    if value is _NULL:
        return None
    kind = type(value)
    if kind is dict:
        changed = False
        out = {}
        for k, v in value.items():
            p = _plain(v)
            changed = changed or p is not v
            out[k] = p
        return out if changed else value
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        if kind is list and all(a is b for a, b in zip(items, value)):
            return value
        return items
    if kind is float:
        if not math.isfinite(value):
            raise StatesError(errors.QUERY_EVALUATION_ERROR, "The result is not a finite number.",
                              evaluation=True)
        # JSONata numbers are doubles; AWS prints whole ones as integers.
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if kind in (str, int, bool) or value is None:
        return value
    if isinstance(value, jsonata.Jsonata.JFunctionCallable) or callable(value):
        raise StatesError(
            errors.QUERY_EVALUATION_ERROR,
            "The JSONata expression returned a function, which is not a JSON value.",
            evaluation=True,
        )
    return value


def _functions(runtime: Runtime) -> dict[str, Any]:
    def now(picture: Any = None, tz: Any = None) -> str:
        moment = datetime.fromtimestamp(runtime.now(), tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def millis() -> int:
        return int(runtime.now() * 1000)

    def random(seed: Any = None) -> float:
        return runtime.random_float(None if seed is None else int(seed))

    return {
        "now": _JLambda(now),
        "millis": _JLambda(millis),
        "uuid": _JLambda(runtime.uuid),
        "random": _JLambda(random),
        "partition": _JLambda(_partition),
        "range": _JLambda(_range),
        "hash": _JLambda(_hash),
        "parse": _JLambda(_parse),
    }


def _arg_error(name: str, message: str) -> StatesError:
    return StatesError(errors.QUERY_EVALUATION_ERROR, f"${name}: {message}", evaluation=True)


def _partition(array: Any, size: Any) -> Any:
    array = _plain(array)
    if not isinstance(array, list):
        raise _arg_error("partition", "the first argument must be an array")
    if not isinstance(size, (int, float)) or isinstance(size, bool) or size < 1:
        raise _arg_error("partition", "the chunk size must be a positive integer")
    size = int(size)
    return [array[i:i + size] for i in range(0, len(array), size)]


def _range(start: Any, end: Any, step: Any = 1) -> Any:
    for v in (start, end, step):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise _arg_error("range", "the arguments must be numbers")
    if step == 0:
        raise _arg_error("range", "the step must not be 0")
    out = []
    value = start
    while (value <= end) if step > 0 else (value >= end):
        out.append(value)
        value += step
        if len(out) > 1000:
            raise _arg_error("range", "the range has more than 1000 items")
    return out


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any = "SHA-256") -> Any:
    text = data if isinstance(data, str) else to_json(_plain(data))
    if algorithm not in _HASHES:
        raise _arg_error("hash", f"unsupported algorithm {algorithm}")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _arg_error("parse", "the argument must be a string")
    try:
        value = from_json(text)
    except ValueError:
        raise _arg_error("parse", f"the string is not valid JSON: {text}") from None
    return _NULL if value is None else value


def expected_type_error(expression: Expression, field: str, want: str, got: Any) -> StatesError:
    """AWS's message when an expression returns the wrong kind of value for its field."""
    return StatesError(
        errors.QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{expression.text}' specified for the field '{field}' returned "
        f"an unexpected result type. Expected '{want}', but was '{type_name(got)}' for value: "
        f"{to_json(got)}",
        evaluation=True,
    )


def undefined_error(expression: Expression, field: str) -> StatesError:
    return StatesError(
        errors.QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{expression.text}' specified for the field '{field}' returned "
        f"nothing (undefined).",
        evaluation=True,
    )
