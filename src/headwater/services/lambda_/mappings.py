"""Event source mappings for SQS queues: the configuration (this module) and the pollers
(``pollers.py``).

A mapping is kept in its wire form (``EventSourceMappingConfiguration``), so reads return
what was written.  As with functions, the write answers with the transitional state AWS
reports (``Creating``, ``Updating``, ``Enabling``, ``Disabling``, ``Deleting``) and the store
holds the state it settles in (``Enabled`` / ``Disabled``), since pollers start at once.

``FilterCriteria`` needs the event-pattern engine that comes with EventBridge; until then a
mapping with filters is refused with an error that says so.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.core.clock import Clock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory
from headwater.services.lambda_ import errors
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.names import FunctionRef, parse_function

DEFAULT_BATCH = 10
MAX_BATCH_STANDARD = 10_000
MAX_BATCH_FIFO = 10
MAX_WINDOW = 300


class Mappings:
    def __init__(
        self, functions: Functions, clock: Clock, ids: IdFactory, facades: dict[str, Any]
    ) -> None:
        self.functions = functions
        self.store = functions.store
        self.clock = clock
        self.ids = ids
        self.facades = facades

    def get(self, uuid: str) -> dict[str, Any]:
        found = self.store.mapping(uuid)
        if found is None:
            raise errors.not_found("The resource you requested does not exist.")
        return found[2]

    def list(
        self, account: str, region: str, source: str | None, function: str | None
    ) -> list[dict[str, Any]]:
        out = []
        wanted = None
        if function:
            wanted = parse_function(function, account, region)
        for _, acct, reg, doc in self.store.mappings():
            if (acct, reg) != (account, region):
                continue
            if source and doc["EventSourceArn"] != source:
                continue
            if wanted is not None and not _same_function(doc["FunctionArn"], wanted):
                continue
            out.append(doc)
        return out

    def create(self, account: str, region: str, params: Mapping[str, Any]) -> dict[str, Any]:
        ref = parse_function(params["FunctionName"], account, region)
        try:
            self.functions.resolve_version(ref)
        except ServiceError:
            raise errors.invalid_parameter("Function does not exist") from None
        source = params.get("EventSourceArn") or ""
        if not source:
            raise errors.invalid_parameter("Unrecognized event source.")
        if not source.startswith("arn:aws:sqs:"):
            raise errors.not_supported(
                f"event sources other than SQS queues ({source or 'none given'})",
                "map an SQS queue",
            )
        for existing in self.list(account, region, source, None):
            if _same_function(existing["FunctionArn"], ref):
                raise errors.conflict(
                    f'An event source mapping with SQS arn (" {source} ") and function '
                    f'(" {ref.name} ") already exists. Please update or delete the existing '
                    f"mapping with UUID {existing['UUID']}"
                )
        queue = self._queue(source)
        uuid = self.ids.uuid()
        doc: dict[str, Any] = {
            "UUID": uuid,
            "BatchSize": DEFAULT_BATCH,
            "MaximumBatchingWindowInSeconds": 0,
            "EventSourceArn": source,
            "FunctionArn": ref.qualified_arn,
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": [],
            "EventSourceMappingArn": f"arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid}",
        }
        self._apply(doc, params, fifo=queue)
        enabled = params.get("Enabled", True)
        return self._save(account, region, ref, doc, "Creating" if enabled else "Disabled", enabled)

    def update(
        self, account: str, region: str, uuid: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        doc = dict(self.get(uuid))
        ref = parse_function(doc["FunctionArn"], account, region)
        if params.get("FunctionName"):
            ref = parse_function(params["FunctionName"], account, region)
            self.functions.resolve_version(ref)
            doc["FunctionArn"] = ref.qualified_arn
        self._apply(doc, params, fifo=self._queue(doc["EventSourceArn"]))
        was_enabled = doc["State"] == "Enabled"
        enabled = params.get("Enabled", was_enabled)
        if enabled == was_enabled:
            shown = "Updating"
        else:
            shown = "Enabling" if enabled else "Disabling"
        return self._save(account, region, ref, doc, shown, enabled)

    def delete(self, uuid: str) -> dict[str, Any]:
        doc = dict(self.get(uuid))
        self.store.delete_mapping(uuid)
        doc["State"] = "Deleting"
        return doc

    def _save(
        self,
        account: str,
        region: str,
        ref: FunctionRef,
        doc: dict[str, Any],
        shown: str,
        enabled: bool,
    ) -> dict[str, Any]:
        now = self.clock.now()
        doc["State"] = "Enabled" if enabled else "Disabled"
        doc["LastModified"] = now
        self.store.put_mapping(doc["UUID"], account, region, ref.name, doc, now)
        return {**doc, "State": shown}

    def _queue(self, source: str) -> bool:
        """Check the queue exists; True when it is a FIFO queue."""
        try:
            self.facades["sqs"].queue_arn(source)
        except ServiceError:
            raise errors.invalid_parameter(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue "
                "does not exist or you do not have access to it."
            ) from None
        return source.endswith(".fifo")

    @staticmethod
    def _apply(doc: dict[str, Any], params: Mapping[str, Any], *, fifo: bool) -> None:
        if params.get("FilterCriteria", {}).get("Filters"):
            raise errors.not_supported(
                "FilterCriteria on event source mappings (it needs the EventBridge event-pattern "
                "engine)",
                "remove FilterCriteria and filter in the handler",
            )
        for member in ("StartingPosition", "ParallelizationFactor", "TumblingWindowInSeconds"):
            if member in params:
                raise errors.invalid_parameter(
                    f"Unsupported {member} for Amazon SQS event source mappings"
                )
        for member in ("BatchSize", "MaximumBatchingWindowInSeconds"):
            if params.get(member) is not None:
                doc[member] = int(params[member])
        if "FunctionResponseTypes" in params:
            doc["FunctionResponseTypes"] = list(params["FunctionResponseTypes"])
        if "ScalingConfig" in params:
            doc["ScalingConfig"] = dict(params["ScalingConfig"])
        batch, window = doc["BatchSize"], doc["MaximumBatchingWindowInSeconds"]
        limit = MAX_BATCH_FIFO if fifo else MAX_BATCH_STANDARD
        if not 1 <= batch <= limit:
            raise errors.invalid_parameter(
                f"BatchSize must be between 1 and {limit} for {'FIFO' if fifo else 'standard'} "
                "SQS queues."
            )
        if fifo and window:
            raise errors.invalid_parameter("Batching window is not supported for FIFO queues")
        if batch > 10 and window < 1:
            raise errors.invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                "greater than 10"
            )
        maximum = (doc.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if maximum is not None and not 2 <= maximum <= 1000:
            raise errors.invalid_parameter("MaximumConcurrency must be between 2 and 1000.")


def _same_function(arn: str, ref: FunctionRef) -> bool:
    name = arn.split(":")[6]
    return name == ref.name
