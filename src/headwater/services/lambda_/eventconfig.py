"""Event invoke configs: how asynchronous invocations of a function (or a qualifier) retry,
how old an event may get, and where results go.

Defaults when no config exists are Lambda's: two retries, six hours.  Destinations are SQS
queues or Lambda functions (EventBridge buses and SNS topics come with those services).

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.clock import Clock
from headwater.services.lambda_ import errors, names
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.names import LATEST, FunctionRef

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600


@dataclass(frozen=True, slots=True)
class EventConfig:
    max_retries: int = DEFAULT_RETRIES
    max_age: int = DEFAULT_MAX_AGE
    on_success: str | None = None
    on_failure: str | None = None


class EventConfigs:
    def __init__(self, functions: Functions, clock: Clock) -> None:
        self.functions = functions
        self.store = functions.store
        self.clock = clock

    def _qualifier(self, ref: FunctionRef) -> str:
        self.functions.resolve_version(ref)
        return ref.qualifier or LATEST

    def put(self, ref: FunctionRef, params: Mapping[str, Any], *, merge: bool) -> dict[str, Any]:
        qualifier = self._qualifier(ref)
        key = Functions.key(ref)
        doc: dict[str, Any] = {}
        if merge:
            found = self.store.event_config(key, qualifier)
            if found is None:
                raise errors.not_found(
                    f"The function {names.qualified_arn(ref.arn, qualifier)} doesn't have an "
                    "EventInvokeConfig"
                )
            doc = found[0]
        for member in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"):
            if member in params:
                doc[member] = params[member]
        for target in _targets(doc.get("DestinationConfig")):
            self._check_destination(ref, target)
        now = self.clock.now()
        self.store.put_event_config(key, qualifier, doc, now)
        return self._wire(ref, qualifier, doc, now)

    def get(self, ref: FunctionRef) -> dict[str, Any]:
        qualifier = self._qualifier(ref)
        found = self.store.event_config(Functions.key(ref), qualifier)
        if found is None:
            raise errors.not_found(
                f"The function {names.qualified_arn(ref.arn, qualifier)} doesn't have an "
                "EventInvokeConfig"
            )
        return self._wire(ref, qualifier, *found)

    def list(self, ref: FunctionRef) -> list[dict[str, Any]]:
        self.functions.function(ref)
        return [
            self._wire(ref, q, d, t) for q, d, t in self.store.event_configs(Functions.key(ref))
        ]

    def delete(self, ref: FunctionRef) -> None:
        qualifier = self._qualifier(ref)
        if self.store.event_config(Functions.key(ref), qualifier) is None:
            raise errors.not_found(
                f"The function {names.qualified_arn(ref.arn, qualifier)} doesn't have an "
                "EventInvokeConfig"
            )
        self.store.delete_event_config(Functions.key(ref), qualifier)

    def effective(self, ref: FunctionRef, qualifier: str | None) -> EventConfig:
        """The config an asynchronous invocation of ``ref`` with ``qualifier`` follows."""
        found = self.store.event_config(Functions.key(ref), qualifier or LATEST)
        if found is None:
            return EventConfig()
        doc = found[0]
        destinations = doc.get("DestinationConfig") or {}
        return EventConfig(
            int(doc.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            int(doc.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)),
            (destinations.get("OnSuccess") or {}).get("Destination"),
            (destinations.get("OnFailure") or {}).get("Destination"),
        )

    @staticmethod
    def _wire(ref: FunctionRef, qualifier: str, doc: dict[str, Any], at: float) -> dict[str, Any]:
        out = {"FunctionArn": names.qualified_arn(ref.arn, qualifier), "LastModified": at}
        out.update(doc)
        out.setdefault("DestinationConfig", {"OnSuccess": {}, "OnFailure": {}})
        return out

    def _check_destination(self, ref: FunctionRef, target: str) -> None:
        if target.startswith("arn:aws:sqs:"):
            return
        if target.startswith("arn:aws:lambda:"):
            if target.split(":")[6:7] == [ref.name]:
                raise errors.invalid_parameter(
                    "You can't specify the function as a destination for itself."
                )
            return
        raise errors.not_supported(
            f"destinations other than SQS queues and Lambda functions ({target})",
            "use an SQS queue or a function",
        )


def _targets(destinations: Mapping[str, Any] | None) -> list[str]:
    if not destinations:
        return []
    out = []
    for member in ("OnSuccess", "OnFailure"):
        target = (destinations.get(member) or {}).get("Destination")
        if target:
            out.append(target)
    return out
