"""Intrinsic functions (``States.Format(...)`` and the rest): a parser and an evaluator.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html for
JSONPath states: a ``.$`` field whose value starts with ``States.`` is a call, parsed once per
definition into a small tree of :class:`Call`, :class:`Literal` and :class:`PathArg` nodes.

Grammar (what AWS accepts):

    call     := 'States.' NAME '(' [ arg (',' arg)* ] ')'
    arg      := call | string | number | 'true' | 'false' | 'null' | path
    string   := "'" ( "\\'" | "\\\\" | "\\{" | "\\}" | any but "'" )* "'"
    path     := '$' ... | '$$' ... | '$name' ...       (a JSONPath, up to the next top-level , or ))

Parsing raises :class:`IntrinsicSyntaxError` (a definition error); evaluation raises
``StatesError`` (``States.IntrinsicFailure`` for bad arguments, ``States.Runtime`` for a path
that does not resolve).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonpath import (
    InvalidPath,
    JsonPath,
    PathNotFound,
    compile_path,
)
from headwater.services.stepfunctions.asl.values import from_json, is_number, java_string, to_json

MAX_NESTING = 32


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic function call."""


class Entropy(Protocol):
    """Where States.UUID and States.MathRandom get their randomness (injected, replayable)."""

    def uuid(self) -> str: ...

    def random_int(self, low: int, high: int, seed: int | None) -> int: ...


class Scope(Protocol):
    """What a path argument can read: the state input, the context object and variables."""

    def resolve(self, path: JsonPath) -> Any: ...


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    raw: str | None = None  # the string literal as written, escapes kept (States.Format uses it)

    def evaluate(self, scope: Scope, entropy: Entropy) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class PathArg:
    path: JsonPath

    def evaluate(self, scope: Scope, entropy: Entropy) -> Any:
        return scope.resolve(self.path)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Literal | PathArg | Call, ...]
    text: str

    def evaluate(self, scope: Scope, entropy: Entropy) -> Any:
        values = [a.evaluate(scope, entropy) for a in self.args]
        return FUNCTIONS[self.name](self, values, entropy)


Arg = Literal | PathArg | Call


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


def parse(text: str) -> Call:
    """Parse one call; the whole text must be consumed."""
    parser = _Parser(text)
    call = parser.call(0)
    parser.skip_space()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after the call: {text[parser.pos:]!r}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise IntrinsicSyntaxError("intrinsic functions nested too deeply")
        start = self.pos
        if not self.text.startswith("States.", self.pos):
            raise IntrinsicSyntaxError("expected States.<function>(")
        self.pos += len("States.")
        name_start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] == "_"
        ):
            self.pos += 1
        name = self.text[name_start:self.pos]
        if name not in FUNCTIONS:
            raise IntrinsicSyntaxError(f"unknown intrinsic function States.{name}")
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise IntrinsicSyntaxError("expected '(' after the function name")
        self.pos += 1
        args: list[Arg] = []
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
        else:
            while True:
                self.skip_space()
                args.append(self.arg(depth))
                self.skip_space()
                if self.pos >= len(self.text):
                    raise IntrinsicSyntaxError("missing ')'")
                ch = self.text[self.pos]
                self.pos += 1
                if ch == ")":
                    break
                if ch != ",":
                    raise IntrinsicSyntaxError(f"unexpected {ch!r} between arguments")
        return Call(name, tuple(args), self.text[start:self.pos])

    def arg(self, depth: int) -> Arg:
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise IntrinsicSyntaxError("missing argument")
        ch = text[pos]
        if ch == "'":
            return self.string()
        if text.startswith("States.", pos):
            return self.call(depth + 1)
        if ch == "$":
            return self.path()
        end = pos
        while end < len(text) and text[end] not in ",) \t\r\n":
            end += 1
        word = text[pos:end]
        self.pos = end
        if word == "true":
            return Literal(True)
        if word == "false":
            return Literal(False)
        if word == "null":
            return Literal(None)
        try:
            number: Any = int(word)
        except ValueError:
            try:
                number = float(word)
            except ValueError:
                raise IntrinsicSyntaxError(f"not a valid argument: {word!r}") from None
            if not math.isfinite(number):
                raise IntrinsicSyntaxError(f"not a valid argument: {word!r}") from None
        return Literal(number)

    def string(self) -> Literal:
        text = self.text
        self.pos += 1
        out: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                # \{ and \} stay escaped in the value so States.Format can tell them apart.
                out.append(nxt if nxt in "'\\" else "\\" + nxt)
                self.pos += 2
                continue
            if ch == "'":
                self.pos += 1
                value = "".join(out)
                return Literal(_unescape_braces(value), raw=value)
            out.append(ch)
            self.pos += 1
        raise IntrinsicSyntaxError("unterminated string literal")

    def path(self) -> PathArg:
        text = self.text
        start = self.pos
        depth = 0
        quote: str | None = None
        while self.pos < len(text):
            ch = text[self.pos]
            if quote is not None:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0 or ch in " \t\r\n" and depth == 0:
                break
            self.pos += 1
        try:
            return PathArg(compile_path(text[start:self.pos]))
        except InvalidPath as exc:
            raise IntrinsicSyntaxError(f"not a valid path: {text[start:self.pos]!r}") from exc


def _unescape_braces(value: str) -> str:
    return value.replace("\\{", "{").replace("\\}", "}")


def _fail(call: Call, message: str) -> StatesError:
    return StatesError(errors.INTRINSIC_FAILURE, f"{message} (in {call.text})")


def _arity(call: Call, args: list[Any], low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise _fail(call, f"States.{call.name} takes {want} arguments, got {len(args)}")


def _want(call: Call, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _fail(call, f"States.{call.name} expects {what}, got {to_json(value)}")
    return value


def _want_int(call: Call, value: Any, what: str) -> int:
    if is_number(value) and float(value).is_integer():
        return int(value)
    raise _fail(call, f"States.{call.name} expects {what} to be an integer, got {to_json(value)}")


def _java_round(value: float) -> int:
    # Java's Math.round: half-way values round up, towards positive infinity.
    return math.floor(value + 0.5)


def _format(call: Call, args: list[Any], entropy: Entropy) -> Any:
    if not args:
        raise _fail(call, "States.Format needs a template")
    first = call.args[0]
    template = first.raw if isinstance(first, Literal) and first.raw is not None else args[0]
    _want(call, template, str, "a string template")
    out: list[str] = []
    values = iter(args[1:])
    used = 0
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and i + 1 < len(template) and template[i + 1] in "{}\\":
            out.append(template[i + 1])
            i += 2
            continue
        if template.startswith("{}", i):
            try:
                out.append(java_string(next(values)))
            except StopIteration:
                raise _fail(call, "more placeholders than arguments") from None
            used += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    if used != len(args) - 1:
        raise _fail(call, "more arguments than placeholders")
    return "".join(out)


def _string_to_json(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    text = _want(call, args[0], str, "a string")
    if not text.strip():
        return None
    try:
        return from_json(text)
    except ValueError:
        raise _fail(call, f"the string is not valid JSON: {text}") from None


def _json_to_string(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    return to_json(args[0])


def _array(call: Call, args: list[Any], entropy: Entropy) -> Any:
    return list(args)


def _array_partition(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    array = _want(call, args[0], list, "an array")
    size = _want_int(call, args[1], "the chunk size")
    if size <= 0:
        raise _fail(call, "the chunk size must be greater than 0")
    return [array[i:i + size] for i in range(0, len(array), size)]


def _array_contains(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    array = _want(call, args[0], list, "an array")
    return any(_same(item, args[1]) for item in array)


def _same(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0, but true is not 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _array_range(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 3)
    start = _want_int(call, args[0], "the start")
    end = _want_int(call, args[1], "the end")
    step = _want_int(call, args[2], "the step")
    if step == 0:
        raise _fail(call, "the step must not be 0")
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        raise _fail(call, "the range has more than 1000 items")
    return out


def _array_get_item(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    array = _want(call, args[0], list, "an array")
    index = _want_int(call, args[1], "the index")
    if not 0 <= index < len(array):
        raise _fail(call, f"index {index} is out of bounds for an array of {len(array)}")
    return array[index]


def _array_length(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    return len(_want(call, args[0], list, "an array"))


def _array_unique(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    array = _want(call, args[0], list, "an array")
    seen: set[str] = set()
    out = []
    for item in array:
        key = to_json(item if not isinstance(item, float) or not item.is_integer() else int(item))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _base64_encode(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    text = _want(call, args[0], str, "a string")
    if len(text) > 10_000:
        raise _fail(call, "the input is longer than 10000 characters")
    return base64.b64encode(text.encode()).decode()


def _base64_decode(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 1)
    text = _want(call, args[0], str, "a string")
    if len(text) > 10_000:
        raise _fail(call, "the input is longer than 10000 characters")
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _fail(call, "the input is not valid base64") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}


def _hash(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    data = args[0] if isinstance(args[0], str) else to_json(args[0])
    if len(data) > 10_000:
        raise _fail(call, "the input is longer than 10000 characters")
    algorithm = _want(call, args[1], str, "an algorithm name")
    if algorithm not in _HASHES:
        raise _fail(call, f"unsupported algorithm {algorithm}; use one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()


def _json_merge(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 3)
    left = _want(call, args[0], dict, "an object")
    right = _want(call, args[1], dict, "an object")
    deep = _want(call, args[2], bool, "a boolean")
    if deep:
        # AWS quirk: only the shallow mode exists; `true` is rejected.
        raise _fail(call, "deep merging is not supported; pass false")
    return {**left, **right}


def _math_random(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2, 3)
    low = _want_int(call, args[0], "the start")
    high = _want_int(call, args[1], "the end")
    seed = _want_int(call, args[2], "the seed") if len(args) == 3 else None
    if high <= low:
        raise _fail(call, "the end must be greater than the start")
    return entropy.random_int(low, high, seed)


def _math_add(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    for value in args:
        if not is_number(value):
            raise _fail(call, f"States.MathAdd expects numbers, got {to_json(value)}")
    # AWS quirk: each operand is rounded (Java Math.round) before adding: 1.5 + 1.51 = 4.
    return _java_round(args[0]) + _java_round(args[1])


def _string_split(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 2)
    text = _want(call, args[0], str, "a string")
    delimiters = _want(call, args[1], str, "a string of delimiters")
    # AWS quirk: every character of the second argument is a delimiter and empty pieces are
    # dropped (Java's StringTokenizer): ",,a,,b" gives ["a", "b"].
    out: list[str] = []
    piece: list[str] = []
    for ch in text:
        if ch in delimiters:
            if piece:
                out.append("".join(piece))
                piece = []
        else:
            piece.append(ch)
    if piece:
        out.append("".join(piece))
    return out


def _uuid(call: Call, args: list[Any], entropy: Entropy) -> Any:
    _arity(call, args, 0)
    return entropy.uuid()


FUNCTIONS: dict[str, Callable[[Call, list[Any], Entropy], Any]] = {
    "Format": _format,
    "StringToJson": _string_to_json,
    "JsonToString": _json_to_string,
    "Array": _array,
    "ArrayPartition": _array_partition,
    "ArrayContains": _array_contains,
    "ArrayRange": _array_range,
    "ArrayGetItem": _array_get_item,
    "ArrayLength": _array_length,
    "ArrayUnique": _array_unique,
    "Base64Encode": _base64_encode,
    "Base64Decode": _base64_decode,
    "Hash": _hash,
    "JsonMerge": _json_merge,
    "MathRandom": _math_random,
    "MathAdd": _math_add,
    "StringSplit": _string_split,
    "UUID": _uuid,
}

__all__ = ["Call", "Entropy", "IntrinsicSyntaxError", "Literal", "PathArg", "PathNotFound",
           "Scope", "is_intrinsic", "parse"]
