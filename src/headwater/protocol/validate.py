"""Input validation against the model's constraints, with the messages AWS services give.

Modern AWS services (the "Coral" stack behind json and rest-json) report every violated
constraint in one ``ValidationException``:

    1 validation error detected: Value null at 'queueUrl' failed to satisfy constraint:
    Member must not be null

Member paths are written in lower camel case, as AWS does.  Services whose errors differ
(SQS reports ``MissingParameter``) translate the ``Violation`` list themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from headwater.core.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # lowerCamel dotted path, e.g. "entries.1.id"
    member: str  # the model's member name, e.g. "Id"
    value: Any
    constraint: str
    kind: str  # "required", "length", "range", "pattern", "enum", "type"


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


@lru_cache(maxsize=1024)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None  # a Java-only pattern; AWS enforces it, we cannot


Checker = Callable[[Any, str, str, "list[Violation]"], None]

# Shape -> its compiled checker.  botocore hands out the same Shape objects for the life of a
# ServiceModel (members and input shapes are cached properties), so compiling once per shape
# turns the per-request walk into calls of small closures with the constraints pre-read.
_compiled: dict[int, tuple[Shape, Checker]] = {}


def find_violations(shape: Shape, value: Any, path: str = "", member: str = "") -> list[Violation]:
    out: list[Violation] = []
    checker_for(shape)(value, path, member, out)
    return out


def checker_for(shape: Shape) -> Checker:
    found = _compiled.get(id(shape))
    if found is not None and found[0] is shape:
        return found[1]
    # Placeholder first, so recursive shapes refer to the finished checker through it.
    cell: list[Checker] = []
    _compiled[id(shape)] = (shape, lambda v, p, m, o: cell[0](v, p, m, o))
    checker = _compile(shape)
    cell.append(checker)
    _compiled[id(shape)] = (shape, checker)
    return checker


def _nothing(value: Any, path: str, member: str, out: list[Violation]) -> None:
    return None


def _compile(shape: Shape) -> Checker:
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        return _compile_structure(shape)
    if t in ("list", "map"):
        return _compile_collection(shape, meta)
    if t == "string":
        return _compile_string(meta)
    if t in ("integer", "long", "float", "double"):
        return _compile_number(meta)
    length = _length_checker(meta) if t == "blob" else None
    if length is not None:

        def check_blob(value: Any, path: str, member: str, out: list[Violation]) -> None:
            if isinstance(value, (bytes, bytearray)):
                length(value, path, member, out)

        return check_blob
    return _nothing


def _compile_structure(shape: Shape) -> Checker:
    required = tuple(shape.required_members)
    members = tuple(
        (name, _camel(name), checker_for(sub)) for name, sub in shape.members.items()
    )
    members = tuple(m for m in members if m[2] is not _nothing)

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, dict):
            return
        for name in required:
            if value.get(name) is None:
                out.append(
                    Violation(_join(path, name), name, None, "Member must not be null", "required")
                )
        for name, camel, sub in members:
            item = value.get(name)
            if item is not None:
                sub(item, f"{path}.{camel}" if path else camel, name, out)

    return check


def _compile_collection(shape: Shape, meta: dict[str, Any]) -> Checker:
    is_list = shape.type_name == "list"
    item_checker = checker_for(shape.member if is_list else shape.value)
    length = _length_checker(meta)

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if is_list:
            if not isinstance(value, list):
                return
            if length is not None:
                length(value, path, member, out)
            if item_checker is not _nothing:
                for i, item in enumerate(value, 1):
                    item_checker(item, f"{path}.{i}", member, out)
        else:
            if not isinstance(value, dict):
                return
            if length is not None:
                length(value, path, member, out)
            if item_checker is not _nothing:
                for key, item in value.items():
                    item_checker(item, f"{path}.{key}", member, out)

    return check


def _compile_string(meta: dict[str, Any]) -> Checker:
    length = _length_checker(meta)
    enum = meta.get("enum")
    enum_set = frozenset(enum) if enum else None
    enum_constraint = f"Member must satisfy enum value set: [{', '.join(enum or ())}]"
    pattern_text = meta.get("pattern")
    pattern = _pattern(pattern_text) if pattern_text else None
    if length is None and enum_set is None and pattern is None:
        return _nothing

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, str):
            return
        if length is not None:
            length(value, path, member, out)
        if enum_set is not None and value not in enum_set:
            out.append(
                Violation(
                    path,
                    member,
                    value,
                    enum_constraint,
                    "enum",
                )
            )
        if pattern is not None and not pattern.fullmatch(value):
            out.append(
                Violation(
                    path,
                    member,
                    value,
                    f"Member must satisfy regular expression pattern: {pattern_text}",
                    "pattern",
                )
            )

    return check


def _compile_number(meta: dict[str, Any]) -> Checker:
    bounds = _bounds_checker(meta, "value", "range", lambda value: value)
    if bounds is None:
        return _nothing

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        bounds(value, path, member, out)

    return check


def _length_checker(meta: dict[str, Any]) -> Checker | None:
    """The min/max length check of a string, blob, list or map; None when it has none."""
    return _bounds_checker(meta, "length", "length", len)


def _bounds_checker(
    meta: dict[str, Any], noun: str, kind: str, measure: Callable[[Any], float]
) -> Checker | None:
    low = meta.get("min")
    high = meta.get("max")
    if low is None and high is None:
        return None

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        n = measure(value)
        if low is not None and n < low:
            constraint = f"Member must have {noun} greater than or equal to {low}"
            out.append(Violation(path, member, value, constraint, kind))
        if high is not None and n > high:
            constraint = f"Member must have {noun} less than or equal to {high}"
            out.append(Violation(path, member, value, constraint, kind))

    return check


def _join(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray)):
        return "java.nio.HeapByteBuffer"
    return f"'{value}'" if isinstance(value, str) else str(value)


def validation_exception(violations: list[Violation]) -> ServiceError:
    """AWS's Coral-style ``ValidationException`` listing every violation."""
    n = len(violations)
    parts = [
        f"Value {_show(v.value)} at '{v.path}' failed to satisfy constraint: {v.constraint}"
        for v in violations
    ]
    noun = "error" if n == 1 else "errors"
    return ServiceError("ValidationException", f"{n} validation {noun} detected: " + "; ".join(parts))
