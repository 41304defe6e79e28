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


def find_violations(shape: Shape, value: Any, path: str = "", member: str = "") -> list[Violation]:
    out: list[Violation] = []
    _walk(shape, value, path, member, out)
    return out


def _walk(shape: Shape, value: Any, path: str, member: str, out: list[Violation]) -> None:
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(
                    Violation(_join(path, name), name, None, "Member must not be null", "required")
                )
        for name, sub in shape.members.items():
            if name in value and value[name] is not None:
                _walk(sub, value[name], _join(path, name), name, out)
        return
    if t == "list":
        if isinstance(value, list):
            _length(meta, value, path, member, out)
            for i, item in enumerate(value, 1):
                _walk(shape.member, item, f"{path}.{i}", member, out)
        return
    if t == "map":
        if isinstance(value, dict):
            _length(meta, value, path, member, out)
            for key, item in value.items():
                _walk(shape.value, item, f"{path}.{key}", member, out)
        return
    if t == "string":
        if not isinstance(value, str):
            return
        _length(meta, value, path, member, out)
        enum = meta.get("enum")
        if enum and value not in enum:
            out.append(
                Violation(
                    path,
                    member,
                    value,
                    "Member must satisfy enum value set: [" + ", ".join(enum) + "]",
                    "enum",
                )
            )
        pattern = meta.get("pattern")
        if pattern:
            compiled = _pattern(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                out.append(
                    Violation(
                        path,
                        member,
                        value,
                        f"Member must satisfy regular expression pattern: {pattern}",
                        "pattern",
                    )
                )
        return
    if t in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if "min" in meta and value < meta["min"]:
            out.append(
                Violation(
                    path,
                    member,
                    value,
                    f"Member must have value greater than or equal to {meta['min']}",
                    "range",
                )
            )
        if "max" in meta and value > meta["max"]:
            out.append(
                Violation(
                    path,
                    member,
                    value,
                    f"Member must have value less than or equal to {meta['max']}",
                    "range",
                )
            )
        return
    if t == "blob" and isinstance(value, (bytes, bytearray)):
        _length(meta, value, path, member, out)


def _length(meta: dict[str, Any], value: Any, path: str, member: str, out: list[Violation]) -> None:
    n = len(value)
    if "min" in meta and n < meta["min"]:
        out.append(
            Violation(
                path,
                member,
                value,
                f"Member must have length greater than or equal to {meta['min']}",
                "length",
            )
        )
    if "max" in meta and n > meta["max"]:
        out.append(
            Violation(
                path,
                member,
                value,
                f"Member must have length less than or equal to {meta['max']}",
                "length",
            )
        )


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
