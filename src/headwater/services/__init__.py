"""The services headwater serves, and the small contract each one keeps with the app.

A service package exposes ``create(env) -> ServiceHandle``.  The handle gives the gateway an
adapter (one method per operation) and, for other services and the CLI, a facade; its
``start``/``stop`` run the service's background workers inside the app's lifespan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headwater.config import Settings
from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.store import Store


@dataclass
class ServiceEnv:
    settings: Settings
    store: Store
    clock: Clock
    ids: IdFactory
    # name -> facade of every service created so far (services call each other in-process).
    facades: dict[str, Any] = field(default_factory=dict)
    # name -> adapter of every service created so far: Step Functions' aws-sdk:* integrations
    # call any operation of any service with the API's own parameters.
    adapters: dict[str, Any] = field(default_factory=dict)


async def _nothing() -> None:
    return None


@dataclass
class ServiceHandle:
    name: str  # botocore service name
    adapter: object
    facade: Any = None
    query_error_codes: Mapping[str, str] = field(default_factory=dict)
    # Turns constraint violations (``protocol.validate.Violation``) into the service's own
    # error, or returns None to let the request through (the service checks those values
    # itself); no hook means AWS's generic ``ValidationException``.
    validation_error: Callable[[list[Any]], Exception | None] | None = None
    # Called on the event loop when the server begins shutting down, before in-flight
    # requests are awaited: release requests that wait (long polls) so shutdown is prompt.
    drain: Callable[[], None] = lambda: None
    start: Callable[[], Awaitable[None]] = _nothing
    stop: Callable[[], Awaitable[None]] = _nothing
    # Answers a request no operation of the model describes, (request, request id) ->
    # response, or None when it is not this service's; may raise ServiceError.  The gateway
    # asks for OPTIONS (CORS preflights) and multipart/form-data POSTs (browser uploads).
    unrouted: Callable[[Any, str], Any] | None = None
    # Adds headers to an answer given (request, response), errors included: S3's CORS headers.
    decorate: Callable[[Any, Any], None] | None = None
    # The error for a request that carries no credentials at all, given (operation name, the
    # parameters routing found), or None for the service's usual refusal: S3 tells an
    # anonymous caller that a bucket does not exist (404 NoSuchBucket) before it says no.
    anonymous: Callable[[str, Mapping[str, str]], Exception | None] | None = None


# The services the gateway builds, in dependency order.
SERVICE_MODULES = (
    "headwater.services.sqs",
    "headwater.services.s3",
    "headwater.services.lambda_",
    "headwater.services.stepfunctions",
)
