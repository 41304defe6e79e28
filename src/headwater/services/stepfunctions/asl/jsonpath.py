"""JSONPath as the Amazon States Language uses it, compiled once per definition.

Implements the path rules of
https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
(Paths, Reference Paths, the context object ``$$`` and variable references ``$name``).

Step Functions evaluates paths with Jayway JsonPath; what users notice of it is kept here:
a *definite* path (only names and indexes) yields one value or fails; an *indefinite* path
(wildcards, slices, filters, deep scan, unions) yields a list of every match, possibly empty.

Definite paths are compiled to a tuple of keys and resolved with direct dict/list lookups (the
hot path of every Pass/Choice loop); only indefinite paths go through jsonpath-ng.

Not here: deciding which error a missing path raises (that depends on the field: InputPath
fails with ``States.Runtime``, a Parameters ``.$`` key with another message); callers catch
:class:`PathNotFound` and word the cause.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.services.stepfunctions.asl.errors import StatesError

Key = str | int

# One step of a definite path: `.name`, `['name']`, `["name"]` or `[3]` / `[-1]`.
_STEP = re.compile(
    r"""\.(?P<dot>[^.\[\]()*?@,:'"\s]+)"""
    r"""|\[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]"""
    r"""|\[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]"""
    r"""|\[\s*(?P<idx>-?\d+)\s*\]"""
)
# The name a variable reference starts with: `$name` in `$name.field[0]`.
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

_MISSING = object()


class PathNotFound(Exception):
    """A definite path does not resolve in the document.

    ``depth`` is how many steps did resolve; ``leaf`` is true when only the last step failed.
    The two Jayway messages AWS passes on are built by :meth:`jayway_message`.
    """

    def __init__(self, path: JsonPath, depth: int) -> None:
        super().__init__(path.text)
        self.path = path
        self.depth = depth

    @property
    def leaf(self) -> bool:
        return self.depth == len(self.path.steps) - 1

    def jayway_message(self) -> str:
        steps = self.path.steps
        if self.leaf:
            return f"No results for path: {bracketed(steps)}"
        return f"Missing property in path {bracketed(steps[: self.depth + 1])}"


def bracketed(steps: tuple[Key, ...] | list[Key]) -> str:
    """A path in Jayway's canonical form: ``$['a']['b'][0]``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


class JsonPath:
    """A compiled path. ``root`` says what it reads: ``"$"`` the state's input (or whatever
    document the caller passes), ``"$$"`` the context object, or a variable name."""

    __slots__ = ("_general", "definite", "get", "root", "steps", "text")

    def __init__(self, text: str, root: str, steps: tuple[Key, ...], general: Any = None) -> None:
        self.text = text
        self.root = root
        self.steps = steps
        self.definite = general is None
        self._general = general
        # `get(doc)`: the value at this path in `doc`. Raises PathNotFound for a definite path
        # that does not resolve; an indefinite path returns the list of its matches. Built as
        # a closure per shape because simple paths are the engine's hottest code.
        self.get: Any = self._getter()

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"

    @property
    def is_variable(self) -> bool:
        return self.root not in ("$", "$$")

    def _getter(self) -> Any:
        general = self._general
        if general is not None:
            return lambda doc: [m.value for m in general.find(doc)]
        steps = self.steps
        path = self
        if not steps:
            return lambda doc: doc
        if len(steps) == 1 and type(steps[0]) is str:
            key = steps[0]

            def one(doc: Any) -> Any:
                if type(doc) is dict:
                    value = doc.get(key, _MISSING)
                    if value is not _MISSING:
                        return value
                raise PathNotFound(path, 0)

            return one
        if all(type(k) is str for k in steps):
            def names(doc: Any) -> Any:
                for i, key in enumerate(steps):
                    if type(doc) is dict:
                        doc = doc.get(key, _MISSING)
                        if doc is not _MISSING:
                            continue
                    raise PathNotFound(path, i)
                return doc

            return names
        return self._walk

    def _walk(self, doc: Any) -> Any:
        for i, key in enumerate(self.steps):
            if type(key) is str:
                if type(doc) is dict:
                    value = doc.get(key, _MISSING)
                    if value is not _MISSING:
                        doc = value
                        continue
            elif type(doc) is list and isinstance(key, int) and -len(doc) <= key < len(doc):
                doc = doc[key]
                continue
            raise PathNotFound(self, i)
        return doc

    def exists(self, doc: Any) -> bool:
        if self._general is not None:
            return bool(self._general.find(doc))
        try:
            self.get(doc)
        except PathNotFound:
            return False
        return True

    def set(self, doc: Any, value: Any) -> Any:
        """A copy of ``doc`` with ``value`` placed at this (reference) path.

        Only the containers along the path are copied; everything else is shared, because
        payloads are never mutated in place. Missing objects along the way are created.
        """
        if not self.definite:
            raise ValueError("only a reference path can be written to")
        return _put(doc, self.steps, 0, value, self)


def _put(doc: Any, steps: tuple[Key, ...], i: int, value: Any, path: JsonPath) -> Any:
    if i == len(steps):
        return value
    key = steps[i]
    if isinstance(key, str):
        if doc is _MISSING:
            doc = {}
        if not isinstance(doc, dict):
            raise _result_path_mismatch(path, doc)
        out = dict(doc)
        out[key] = _put(doc.get(key, _MISSING), steps, i + 1, value, path)
        return out
    if not isinstance(doc, list) or not -len(doc) <= key < len(doc):
        raise _result_path_mismatch(path, doc)
    seq = list(doc)
    seq[key] = _put(doc[key], steps, i + 1, value, path)
    return seq


def _result_path_mismatch(path: JsonPath, doc: Any) -> StatesError:
    from headwater.services.stepfunctions.asl.values import to_json

    shown = "null" if doc is _MISSING else to_json(doc)
    return StatesError(
        "States.ResultPathMatchFailure",
        f"Unable to apply ReferencePath {path.text} to input {shown}",
    )


class InvalidPath(ValueError):
    """The text is not a JSONPath this engine accepts (a definition error)."""


_cache: dict[tuple[str, bool], JsonPath] = {}


def compile_path(text: str, *, allow_variables: bool = True) -> JsonPath:
    """Compile ``$...``, ``$$...`` or (when allowed) ``$name...``; raises :class:`InvalidPath`."""
    key = (text, allow_variables)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    compiled = _compile(text, allow_variables)
    if len(_cache) < 10_000:
        _cache[key] = compiled
    return compiled


def _compile(text: str, allow_variables: bool) -> JsonPath:
    if not isinstance(text, str) or not text.startswith("$"):
        raise InvalidPath(text)
    if text.startswith("$$"):
        root, rest = "$$", text[2:]
    elif (m := _VARIABLE.match(text)) is not None:
        if not allow_variables:
            raise InvalidPath(text)
        root, rest = m.group(1), text[m.end():]
    else:
        root, rest = "$", text[1:]
    steps = _definite_steps(rest)
    if steps is not None:
        return JsonPath(text, root, steps)
    return JsonPath(text, root, (), _general(text, root, rest))


def _definite_steps(rest: str) -> tuple[Key, ...] | None:
    steps: list[Key] = []
    pos = 0
    while pos < len(rest):
        m = _STEP.match(rest, pos)
        if m is None:
            return None
        if m.group("dot") is not None:
            steps.append(m.group("dot"))
        elif m.group("idx") is not None:
            steps.append(int(m.group("idx")))
        else:
            raw = m.group("sq") if m.group("sq") is not None else m.group("dq")
            steps.append(re.sub(r"\\(.)", r"\1", raw))
        pos = m.end()
    return tuple(steps)


def _general(text: str, root: str, rest: str) -> Any:
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parser as ext_parser

    try:
        return ext_parser.parse("$" + rest)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        raise InvalidPath(text) from exc


def is_path(text: Any) -> bool:
    try:
        compile_path(text)
    except InvalidPath:
        return False
    return True
