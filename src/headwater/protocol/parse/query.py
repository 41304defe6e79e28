"""The ``query`` protocol's requests (CloudFormation, legacy SQS): flat ``Key=value`` pairs.

Parameters come form-encoded in a POST body (or in the query string of a GET).  Nesting is
spelled with dots: ``Attribute.1.Name`` for list items, ``Tags.member.2.Key``,
``Map.entry.1.key`` / ``.value``; a list can be ``flattened`` (no ``member``), and a
``locationName`` renames a member, a list item or a map key/value.  ``Action`` and ``Version``
are routing, not parameters.

The flat keys are first arranged into a prefix tree, so each shape lookup is a dict access.

Protocol: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse.text import from_text

_ROUTING = frozenset({"Action", "Version"})


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Node] = {}


class QueryParser:
    # AWS quirk: the query services (IAM-era front end) report a value of the wrong type as
    # InvalidParameterValue and an unreadable body as MalformedInput.
    value_error_code = "InvalidParameterValue"

    def parse(
        self, request: HttpRequest, operation: OperationModel, uri_params: Mapping[str, str]
    ) -> dict[str, Any]:
        root = _tree(_pairs(request))
        shape = operation.input_shape
        if shape is None:
            return {}
        return self._structure(shape, root, "")

    def _structure(self, shape: Shape, node: _Node, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            child = node.children.get(key)
            if (
                child is None
                and member.type_name == "list"
                and member.serialization.get("flattened")
            ):
                # botocore's client names a flattened list's items after the item shape's
                # locationName instead of the list's own name; accept that spelling too.
                child = node.children.get(member.member.serialization.get("name", key))
            if child is not None:
                out[name] = self._value(member, child, f"{path}{key}")
        return out

    def _value(self, shape: Shape, node: _Node, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, node, f"{path}.")
        if kind == "list":
            if not node.children:
                return []  # "Key=" is how an empty list is sent
            holder = node
            if not shape.serialization.get("flattened"):
                # Tolerate "List.1" for a wrapped list too: some SDKs never learned "member".
                item_name = shape.member.serialization.get("name", "member")
                holder = node.children.get(item_name, node)
            return [
                self._value(shape.member, item, f"{path}.{index}")
                for index, item in _numbered(holder, path, self.value_error_code)
            ]
        if kind == "map":
            entries = node if shape.serialization.get("flattened") else node.children.get("entry")
            if entries is None:
                return {}
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            out: dict[str, Any] = {}
            for index, entry in _numbered(entries, path, self.value_error_code):
                key_node = entry.children.get(key_name)
                value_node = entry.children.get(value_name)
                if key_node is None or key_node.value is None:
                    continue
                where = f"{path}.{index}"
                out[key_node.value] = (
                    self._value(shape.value, value_node, where) if value_node is not None else None
                )
            return out
        if node.value is None:
            raise ServiceError(
                self.value_error_code, f"Value for parameter {path} is not a scalar.", 400
            )
        return from_text(shape, node.value, path, self.value_error_code)


def _pairs(request: HttpRequest) -> list[tuple[str, str]]:
    pairs = parse_qsl(request.query_string, keep_blank_values=True)
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise ServiceError("MalformedInput", "The request body is not UTF-8.", 400) from None
        pairs.extend(parse_qsl(text, keep_blank_values=True))
    return pairs


def _tree(pairs: list[tuple[str, str]]) -> _Node:
    root = _Node()
    for key, value in pairs:
        if key in _ROUTING:
            continue
        node = root
        for part in key.split("."):
            node = node.children.setdefault(part, _Node())
        node.value = value  # a later pair wins, as in the form body over the query string
    return root


def _numbered(node: _Node, path: str, error_code: str) -> list[tuple[int, _Node]]:
    """The children keyed 1, 2, 3... in numeric order (clients may skip numbers)."""
    items: list[tuple[int, _Node]] = []
    for part, child in node.children.items():
        if not part.isdigit():
            raise ServiceError(error_code, f"Invalid list index {part!r} in {path}.", 400)
        items.append((int(part), child))
    items.sort(key=lambda item: item[0])
    return items
