"""Operation -> adapter method.

An adapter is a plain object with one method per operation it implements, named after the
operation (``SendMessage`` -> ``send_message``), taking ``(ctx, params)`` and returning the
result dict (or awaiting it, for operations that wait, such as long polling).  An operation the
model knows but the adapter lacks answers HTTP 501 naming the service and operation.

An adapter may also have ``before_operation(operation, ctx, params)``: checks every operation
shares (S3's bucket owner condition), run before the operation's method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from botocore import xform_name

from headwater.core.errors import ServiceError

Handler = Callable[[Any, dict[str, Any]], Any]


def not_implemented(service: str, operation: str) -> ServiceError:
    return ServiceError(
        "NotImplemented",
        f"headwater does not implement {service}:{operation} yet",
        501,
        sender_fault=False,
    )


class Dispatcher:
    def __init__(self, service: str, adapter: object) -> None:
        self.service = service
        self.adapter = adapter
        self._cache: dict[str, tuple[Handler, bool]] = {}
        # Looked up on the class: a stand-in adapter that answers every name (``__getattr__``)
        # has no checks to run.
        self._before: Callable[[str, Any, dict[str, Any]], None] | None = (
            adapter.before_operation  # type: ignore[attr-defined]
            if hasattr(type(adapter), "before_operation") else None)

    def handler(self, operation: str) -> tuple[Handler, bool]:
        """The adapter method for ``operation`` and whether it is a coroutine function."""
        found = self._cache.get(operation)
        if found is None:
            method = getattr(self.adapter, xform_name(operation), None)
            if method is None or operation.startswith("_"):
                raise not_implemented(self.service, operation)
            found = (method, inspect.iscoroutinefunction(method))
            self._cache[operation] = found
        return found

    async def call(self, operation: str, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        method, is_async = self.handler(operation)
        if self._before is not None:
            self._before(operation, ctx, params)
        result = method(ctx, params)
        if is_async:
            result = await result
        return result or {}

    def implemented(self, operations: list[str]) -> list[str]:
        return [op for op in operations if hasattr(self.adapter, xform_name(op))]


