"""Output shapes compiled once into plans that write rest-xml documents straight to text.

``xml_`` builds an ElementTree per response and then writes it out: a generic walk that costs
about 30 us per ``<Contents>`` entry of a listing, so a 1,000-key ListObjectsV2 page spent
most of its time there.  A plan is the same walk done ahead of time: for each structure, its
members in model order with their opening and closing tags already rendered, and the scalar
kinds resolved, so writing a value is a dict lookup and a string concatenation.  The output is
byte for byte what ``xml_.to_bytes`` gives for the tree ``xml_.write_members`` builds (tests
compare the two): same element order, ``<Tag />`` for empty text, the same escapes (``&``,
``<``, ``>``, and a carriage return as ``&#13;``).

Not every shape compiles: ``compile_document`` returns None for shapes using features the
plans leave to the generic writer (XML attributes, namespaces, maps, recursive shapes), and
the caller then uses that.

Wire format: https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html#xml-shape-serialization
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape

from headwater.protocol.serialize.xml_ import XML_DECLARATION, escape_text, float_text
from headwater.protocol.shapes import b64encode, format_timestamp, iso8601

# Members a structure carries outside the XML document in rest-xml responses.
_BOUND = frozenset({"header", "headers", "statusCode"})
# How a step writes its value: scalar kinds, or ``_NESTED`` (a structure or list writer).
_TEXT, _NUMBER, _BOOLEAN, _TIMESTAMP, _OTHER_SCALAR, _NESTED = range(6)

Write = Callable[[Any, list[str]], None]
# (member name, kind, "<Tag>", "</Tag>", "<Tag />", formatter or nested writer)
Step = tuple[str, int, str, str, str, Any]


class Unsupported(Exception):
    """The shape uses a feature plans leave to the generic writer."""


def escape(text: str) -> str:
    """Element text as ``xml_.to_bytes`` writes it."""
    text = escape_text(text)
    if "\r" in text:
        # XML readers turn a raw "\r\n" into "\n"; the character reference survives.
        text = text.replace("\r", "&#13;")
    return text


# Whole seconds -> "YYYY-MM-DDTHH:MM:SS": keys written close together share their second, so
# a listing formats most of its timestamps from here.  Bounded; cleared when full.
_SECONDS: dict[int, str] = {}
_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]
_SECONDS_MAX = 4096
_YEAR_10000 = 253402300800


def iso_timestamp(value: Any) -> str:
    """``shapes.iso8601`` (milliseconds, 'Z'), with the date and time of day memoized."""
    if type(value) is not float or not 0 <= value < _YEAR_10000:
        return iso8601(value)
    # The same rounding as ``shapes.iso8601`` (and datetime.fromtimestamp): the fraction is
    # exact (``value - whole`` is math.modf's), rounded to microseconds, shown in
    # milliseconds; only the text of the whole seconds comes from the memo.
    whole = int(value)
    micro = round((value - whole) * 1_000_000)
    if micro >= 1_000_000:
        whole += 1
        micro -= 1_000_000
    base = _SECONDS.get(whole)
    if base is None:
        if len(_SECONDS) >= _SECONDS_MAX:
            _SECONDS.clear()
        base = _SECONDS[whole] = iso8601(whole)[:-5]  # less ".000Z"
    return base + _MILLIS[micro // 1000]


def compile_document(
    shape: Shape, root_name: str, namespace: str | None,
    interleave: tuple[str, str, str] | None = None,
) -> Write | None:
    """A writer of the whole document for output ``shape`` (its body members, under
    ``<root_name xmlns=namespace>``), or None when the shape does not compile.

    ``interleave`` is (order key, first, second): two flattened lists of structures, adjacent
    in the model, written as one run of items in the order the value's ``order key`` gives
    (a sequence of booleans, True taking the next item of ``second``).  Without that key in
    the value, each list is written whole, as the generic writer does."""
    if shape.serialization.get("xmlNamespace"):
        return None
    try:
        steps = _structure_steps(shape, body_only=True)
        merged, at = _interleaved(shape, steps, interleave) if interleave else (None, 0)
    except Unsupported:
        return None
    attributes = f' xmlns="{_attribute(namespace)}"' if namespace else ""
    opening, closing, empty = f"<{root_name}{attributes}>", f"</{root_name}>", f"<{root_name}{attributes} />"
    # With ``merged``, the two lists' steps (at ``at`` and after it) are its to write.
    before, after = (steps[:at], steps[at + 2:]) if merged is not None else (steps, [])

    def document(value: Mapping[str, Any], out: list[str]) -> None:
        start = len(out)
        out.append(opening)
        _write_members(before, value, out)
        if merged is not None:
            merged(value, out)
            _write_members(after, value, out)
        if len(out) == start + 1:
            out[start] = empty
        else:
            out.append(closing)

    return document


def _interleaved(shape: Shape, steps: list[Step], interleave: tuple[str, str, str]
                 ) -> tuple[Write, int]:
    """The writer of ``interleave``'s two lists as one run (see ``compile_document``), and
    the index of the first list's step."""
    order_key, first, second = interleave
    names = [step[0] for step in steps]
    if first not in names or second not in names or (
            names.index(second) != names.index(first) + 1):
        raise Unsupported(f"{first} and {second} are not adjacent members")
    writers = []
    for name in (first, second):
        member = shape.members[name]
        item = member.member if member.type_name == "list" else None
        if item is None or not member.serialization.get("flattened") or (
                item.type_name != "structure"):
            raise Unsupported(f"{name} is not a flattened list of structures")
        tag = str(item.serialization.get("name", member.serialization.get("name", name)))
        writers.append(_step("", item, tag, (shape.name,))[5])
    write_first, write_second = writers

    def write(value: Mapping[str, Any], out: list[str]) -> None:
        ones, twos = value.get(first) or (), value.get(second) or ()
        order = value.get(order_key)
        if order is None:
            for entry in ones:
                write_first(entry, out)
            for entry in twos:
                write_second(entry, out)
            return
        next_one, next_two = iter(ones).__next__, iter(twos).__next__
        for takes_second in order:
            if takes_second:
                write_second(next_two(), out)
            else:
                write_first(next_one(), out)

    return write, names.index(first)


def render(document: Write, value: Mapping[str, Any]) -> bytes:
    """The response body: the XML declaration and the document ``document`` writes."""
    out: list[str] = []
    document(value, out)
    return XML_DECLARATION + "".join(out).encode("utf-8", "surrogatepass")


def _attribute(text: str) -> str:
    text = escape(text)
    for raw, escaped in (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#09;")):
        text = text.replace(raw, escaped)
    return text


def _structure_steps(shape: Shape, body_only: bool = False,
                     path: tuple[str, ...] = ()) -> list[Step]:
    """The steps of a structure's members; ``path`` names the structures being compiled
    around it (plans are built eagerly, so a recursive shape cannot compile)."""
    if shape.name in path:
        raise Unsupported(f"recursive shape {shape.name}")
    path = (*path, shape.name)
    steps: list[Step] = []
    for name, member in shape.members.items():
        ser = member.serialization
        if body_only and ser.get("location") in _BOUND:
            continue
        if ser.get("xmlAttribute"):
            raise Unsupported(name)
        steps.append(_step(name, member, str(ser.get("name", name)), path))
    return steps


def _step(name: str, shape: Shape, tag: str, path: tuple[str, ...]) -> Step:
    if shape.serialization.get("xmlNamespace"):
        raise Unsupported(tag)
    opening, closing, empty = f"<{tag}>", f"</{tag}>", f"<{tag} />"
    kind = shape.type_name
    if kind == "string":
        return (name, _TEXT, opening, closing, empty, None)
    if kind in ("integer", "long"):
        return (name, _NUMBER, opening, closing, empty, None)
    if kind == "boolean":
        return (name, _BOOLEAN, opening, closing, empty, None)
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "iso8601")
        if fmt == "iso8601":
            return (name, _TIMESTAMP, opening, closing, empty, iso_timestamp)
        return (name, _TIMESTAMP, opening, closing, empty,
                lambda value: str(format_timestamp(value, fmt)))
    if kind in ("float", "double"):
        return (name, _OTHER_SCALAR, opening, closing, empty, float_text)
    if kind == "blob":
        return (name, _OTHER_SCALAR, opening, closing, empty, b64encode)
    if kind == "structure":
        writer = _structure_writer(shape, opening, closing, empty, path)
        return (name, _NESTED, opening, closing, empty, writer)
    if kind == "list":
        writer = _list_writer(shape, tag, opening, closing, empty, path)
        return (name, _NESTED, opening, closing, empty, writer)
    raise Unsupported(f"{tag}: {kind}")


def _structure_writer(shape: Shape, opening: str, closing: str, empty: str,
                      path: tuple[str, ...]) -> Write:
    steps = _structure_steps(shape, path=path)

    def write(value: Mapping[str, Any], out: list[str]) -> None:
        start = len(out)
        out.append(opening)
        _write_members(steps, value, out)
        if len(out) == start + 1:
            out[start] = empty  # no members present: an empty element, as ElementTree writes it
        else:
            out.append(closing)

    return write


def _list_writer(shape: Shape, tag: str, opening: str, closing: str, empty: str,
                 path: tuple[str, ...]) -> Write:
    member = shape.member
    if shape.serialization.get("flattened"):
        # The items repeat in place, each named by the item shape or else by the list member.
        item = _step("", member, str(member.serialization.get("name", tag)), path)
        if item[1] == _NESTED:
            write_item = item[5]

            def write_flat_nested(value: list[Any], out: list[str]) -> None:
                for entry in value:
                    write_item(entry, out)

            return write_flat_nested

        def write_flat(value: list[Any], out: list[str]) -> None:
            for entry in value:
                _write_one(item, entry, out)

        return write_flat
    item = _step("", member, str(member.serialization.get("name", "member")), path)

    def write_wrapped(value: list[Any], out: list[str]) -> None:
        if not value:
            out.append(empty)
            return
        out.append(opening)
        for entry in value:
            _write_one(item, entry, out)
        out.append(closing)

    return write_wrapped


def _write_members(steps: list[Step], value: Mapping[str, Any], out: list[str]) -> None:
    get = value.get
    for name, kind, opening, closing, empty, extra in steps:
        item = get(name)
        if item is None:
            continue
        # Inline rather than a call per member: a listing page writes thousands of them.
        if kind == _TEXT:
            text = str(item)
            if not text:
                out.append(empty)
                continue
            # isprintable: no carriage return or other control character (xml_.escape_text).
            if "&" in text or "<" in text or ">" in text or not text.isprintable():
                text = escape(text)
            out.append(opening + text + closing)
        elif kind == _NUMBER:
            out.append(opening + str(item) + closing)
        elif kind == _TIMESTAMP:
            out.append(opening + extra(item) + closing)
        elif kind == _NESTED:
            extra(item, out)
        elif kind == _BOOLEAN:
            out.append(opening + ("true" if item else "false") + closing)
        else:
            _write_scalar(opening, closing, empty, extra(item), out)


def _write_one(step: Step, item: Any, out: list[str]) -> None:
    """One list item."""
    _name, kind, opening, closing, empty, extra = step
    if kind == _NESTED:
        extra(item, out)
    elif kind == _BOOLEAN:
        out.append(opening + ("true" if item else "false") + closing)
    elif kind == _TEXT or kind == _NUMBER:
        _write_scalar(opening, closing, empty, str(item), out)
    else:
        _write_scalar(opening, closing, empty, extra(item), out)


def _write_scalar(opening: str, closing: str, empty: str, text: str, out: list[str]) -> None:
    if text:
        out.append(opening + escape(text) + closing)
    else:
        out.append(empty)  # ElementTree writes an element without text as <Tag />
