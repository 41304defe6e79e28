"""Compiled XML plans write the same bytes as the generic tree walk, for random values of
every S3 output shape that compiles (the listings first among them)."""

from __future__ import annotations

import random
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from botocore.model import Shape, ShapeResolver

from headwater.protocol.serialize import xml_plan
from headwater.protocol.serialize.rest import has_body_members
from headwater.protocol.serialize.rest_xml import RestXmlSerializer
from headwater.protocol.serialize.s3 import LISTINGS, S3Serializer
from headwater.protocol.serialize.xml_ import to_bytes
from headwater.protocol.shapes import iso8601
from headwater.protocol.specs import get_spec

SPEC = get_spec("s3")
# Text that tests the escapes: XML specials, a carriage return, control characters, quotes,
# non-ASCII (2-, 3- and 4-byte UTF-8), spaces and delimiters.
ALPHABET = ["a", "Z", "0", "/", "-", "_", ".", " ", "&", "<", ">", "\r", "\n", "\t", "\x01",
            "\x1b", "\x7f", '"', "'", "%", "+", "é", "日", "😀", "&amp;", "]]>"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 3, 8])))


def random_timestamp(rng: random.Random) -> Any:
    choice = rng.randrange(4)
    if choice == 0:
        return rng.randrange(0, 4_000_000_000)  # whole seconds as int
    if choice == 1:
        return float(rng.randrange(0, 4_000_000_000))  # whole seconds as float
    if choice == 2:
        return rng.randrange(0, 4_000_000_000) + 0.9999997  # rounds up to the next second
    return rng.uniform(0, 4_000_000_000)


def random_value(shape: Shape, rng: random.Random, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "structure":
        # Members bound to headers are not the document's (the serializer writes them apart).
        return {name: random_value(member, rng, depth + 1)
                for name, member in shape.members.items()
                if "location" not in member.serialization
                and rng.random() < (0.8 if depth < 3 else 0.2)}
    if kind == "list":
        return [random_value(shape.member, rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 5]))]
    if kind == "string":
        return random_text(rng)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 1000, 2**40])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        return random_timestamp(rng)
    if kind in ("float", "double"):
        return rng.choice([0.5, 1, float("inf"), float("nan")])
    if kind == "blob":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(5)))
    raise AssertionError(f"no random {kind}")


def generic_body(serializer: S3Serializer, operation: str, value: dict[str, Any]) -> bytes:
    op = SPEC.model.operation_model(operation)
    return RestXmlSerializer.document(serializer, op, op.output_shape, value, payload=False)


def compiled_operations() -> list[str]:
    """S3 operations with a body document whose output shape compiles."""
    found = []
    serializer = S3Serializer(SPEC)
    for name in SPEC.model.operation_names:
        op = SPEC.model.operation_model(name)
        shape = op.output_shape
        if shape is None or shape.serialization.get("payload") or not has_body_members(shape):
            continue
        if xml_plan.compile_document(shape, serializer.root_name(op, shape), "ns") is not None:
            found.append(name)
    return found


def test_every_listing_compiles() -> None:
    assert LISTINGS <= set(compiled_operations())


@pytest.mark.parametrize("operation", compiled_operations())
def test_plans_match_the_generic_writer(operation: str) -> None:
    serializer = S3Serializer(SPEC)
    op = SPEC.model.operation_model(operation)
    shape = op.output_shape
    plan = xml_plan.compile_document(shape, serializer.root_name(op, shape), serializer.namespace)
    assert plan is not None
    rng = random.Random(operation)
    for _ in range(60):
        value = random_value(shape, rng)
        assert xml_plan.render(plan, value) == generic_body(serializer, operation, value), value


def test_listing_through_the_serializer_matches_the_generic_writer() -> None:
    serializer = S3Serializer(SPEC)
    rng = random.Random(7)
    for operation in sorted(LISTINGS):
        op = SPEC.model.operation_model(operation)
        for _ in range(40):
            value = random_value(op.output_shape, rng)
            response = serializer.serialize(op, value, "req-1")
            assert response.body == generic_body(serializer, operation, value)


def test_an_empty_result_is_an_empty_root() -> None:
    serializer = S3Serializer(SPEC)
    op = SPEC.model.operation_model("ListObjectsV2")
    body = serializer.serialize(op, {}, "req-1").body
    assert body.endswith(b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/" />')
    assert body == generic_body(serializer, "ListObjectsV2", {})


def test_control_characters_are_written_as_s3_writes_them() -> None:
    # "&#x1;" for U+0001: S3's form (basho/riak_cs#1255, boto/botocore#3496); tab, line feed
    # and carriage return are XML's own and stay characters.
    serializer = S3Serializer(SPEC)
    op = SPEC.model.operation_model("ListObjectsV2")
    key = "a\x01b\x1bc\x00d\te\nf\x7fg"
    body = serializer.serialize(op, {"Contents": [{"Key": key}]}, "req-1").body
    assert b"<Key>a&#x1;b&#x1b;c&#x0;d\te\nf\x7fg</Key>" in body
    assert body == generic_body(serializer, "ListObjectsV2", {"Contents": [{"Key": key}]})
    # The tree ElementTree writes itself (qualified names) gets the same references.
    root = Element("{urn:x}Root")
    root.text = "a\x01b"
    assert to_bytes(root, declaration=False).endswith(b">a&#x1;b</ns0:Root>")


def test_shapes_with_attributes_are_left_to_the_generic_writer() -> None:
    # AccessControlPolicy's Grantee carries xsi:type as an XML attribute.
    op = SPEC.model.operation_model("GetObjectAcl")
    assert xml_plan.compile_document(op.output_shape, "AccessControlPolicy", "ns") is None


def test_timestamps_match_shapes_iso8601() -> None:
    rng = random.Random(3)
    values: list[Any] = [0.0, 0.0004, 0.0005, 0.9999994, 0.9999995, 1.5, 1e9 + 0.001,
                         253402300799.9, -1.5]
    values += [random_timestamp(rng) for _ in range(5000)]
    for value in values:
        assert xml_plan.iso_timestamp(value) == iso8601(value), value


def test_recursive_shapes_are_left_to_the_generic_writer() -> None:
    resolver = ShapeResolver({
        "Output": {"type": "structure", "members": {"Node": {"shape": "Node"}}},
        "Node": {"type": "structure", "members": {"Name": {"shape": "Text"},
                                                  "Children": {"shape": "Nodes"}}},
        "Nodes": {"type": "list", "member": {"shape": "Node"}},
        "Text": {"type": "string"},
    })
    assert xml_plan.compile_document(resolver.get_shape_by_name("Output"), "Root", None) is None


def test_only_adjacent_flattened_lists_of_structures_interleave() -> None:
    shape = SPEC.model.operation_model("ListObjectVersions").output_shape
    assert xml_plan.compile_document(shape, "R", None, ("o", "Versions", "DeleteMarkers"))
    # Not adjacent in the model, or not structures (CommonPrefixes' items are, Name is not).
    assert xml_plan.compile_document(shape, "R", None, ("o", "Versions", "CommonPrefixes")) is None
    assert xml_plan.compile_document(shape, "R", None, ("o", "DeleteMarkers", "Name")) is None
    assert xml_plan.compile_document(shape, "R", None, ("o", "Versions", "Nope")) is None


def test_interleaved_lists_follow_the_order_given() -> None:
    shape = SPEC.model.operation_model("ListObjectVersions").output_shape
    plan = xml_plan.compile_document(shape, "R", None, ("o", "Versions", "DeleteMarkers"))
    assert plan is not None
    value = {"IsTruncated": False, "Versions": [{"Key": "a"}, {"Key": "c"}],
             "DeleteMarkers": [{"Key": "b"}], "Name": "n"}
    body = xml_plan.render(plan, {**value, "o": [False, True, False]}).decode()
    assert body.endswith("<R><IsTruncated>false</IsTruncated><Version><Key>a</Key></Version>"
                         "<DeleteMarker><Key>b</Key></DeleteMarker><Version><Key>c</Key>"
                         "</Version><Name>n</Name></R>")
    grouped = xml_plan.render(plan, value).decode()
    assert "<Version><Key>c</Key></Version><DeleteMarker><Key>b</Key>" in grouped
