"""Lambda on the wire: one method per operation, wire dicts in and out, domain calls between.

The gateway has parsed the rest-json request into the operation's input members and checked
them against the model; each method names the function (``names.parse_function``), calls the
domain and renders the output members.  Writes that change code or configuration also retire
the function's warm workers (``Executor.discard``), so the next call runs what was deployed.

Operations: https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from headwater.protocol.context import RequestContext
from headwater.runtime.code import MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES
from headwater.runtime.executor import Executor
from headwater.services.lambda_ import errors
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.configuration import Version, to_wire
from headwater.services.lambda_.eventconfig import EventConfigs
from headwater.services.lambda_.functions import ACCOUNT_CONCURRENCY, Functions
from headwater.services.lambda_.invoke import (
    ASYNC_REQUEST_LIMIT,
    SYNC_REQUEST_LIMIT,
    Invoker,
    check_payload,
)
from headwater.services.lambda_.mappings import Mappings
from headwater.services.lambda_.names import LATEST, FunctionRef, parse_function, parse_resource_arn
from headwater.services.lambda_.policy import Policies

Params = dict[str, Any]
Result = dict[str, Any]
T = TypeVar("T")
CLIENT_CONTEXT_LIMIT = 3583


class LambdaAdapter:
    def __init__(
        self,
        functions: Functions,
        aliases: Aliases,
        policies: Policies,
        configs: EventConfigs,
        mappings: Mappings,
        invoker: Invoker,
        queue: AsyncInvocations,
        executor: Executor,
        on_mappings_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.functions = functions
        self.aliases = aliases
        self.policies = policies
        self.configs = configs
        self.mappings = mappings
        self.invoker = invoker
        self.queue = queue
        self.executor = executor
        self._mappings_changed = on_mappings_changed

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _ref(ctx: RequestContext, params: Params, qualified: bool = True) -> FunctionRef:
        qualifier = params.get("Qualifier") if qualified else None
        return parse_function(params["FunctionName"], ctx.account_id, ctx.region, qualifier)

    def _config(
        self, ref: FunctionRef, version: Version, qualifier: str | None = None, **state: str
    ) -> Result:
        return to_wire(ref.name, ref.arn, version, qualifier=qualifier, **state)

    # -- functions ----------------------------------------------------------------------

    def create_function(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params)
        version = self.functions.create(ref, params)
        if not params.get("Publish"):
            return self._config(ref, version, state="Pending")
        out = self._config(ref, self.functions.publish(ref, {}), state="Pending")
        # AWS quirk: with Publish, CreateFunction answers version 1's configuration
        # (``Version: "1"``) under the unqualified FunctionArn, unlike PublishVersion and a
        # qualified GetFunction (recorded against AWS in LocalStack's Lambda API snapshots).
        out["FunctionArn"] = ref.arn
        return out

    def get_function(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params)
        version = self.functions.resolve_version(ref)
        row = self.functions.function(ref)
        out: Result = {
            "Configuration": self._config(ref, version, ref.qualifier),
            "Code": {
                "RepositoryType": "S3",
                # headwater serves no download URL: this names where the code lies locally.
                "Location": self.functions.code_dir(ref, version.code).absolute().as_uri(),
            },
        }
        if ref.qualifier is None and row.tags:
            out["Tags"] = row.tags
        if row.concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": row.concurrency}
        return out

    def get_function_configuration(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params)
        return self._config(ref, self.functions.resolve_version(ref), ref.qualifier)

    def list_functions(self, ctx: RequestContext, params: Params) -> Result:
        every = params.get("FunctionVersion") == "ALL"
        names = self.functions.names(ctx.account_id, ctx.region, None, 1_000_000)
        chosen, marker = _page(names, params.get("Marker"), params.get("MaxItems"))
        configs = []
        for name in chosen:
            ref = FunctionRef(ctx.account_id, ctx.region, name)
            versions = self.functions.versions(ref)
            for version in versions if every else [v for v in versions if v.version == LATEST]:
                configs.append(
                    _listed(self._config(ref, version, version.version if every else None))
                )
        out: Result = {"Functions": configs}
        if marker:
            out["NextMarker"] = marker
        return out

    async def update_function_code(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        if params.get("DryRun"):
            return self._config(ref, self.functions.dry_run_code(ref, params))
        version = self.functions.update_code(ref, params)
        await self.executor.discard(ref.arn)
        if params.get("Publish"):
            return self._config(ref, self.functions.publish(ref, {}), state="Pending")
        return self._config(ref, version, update_status="InProgress")

    async def update_function_configuration(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        version = self.functions.update_config(ref, params)
        await self.executor.discard(ref.arn)
        return self._config(ref, version, update_status="InProgress")

    async def delete_function(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params)
        self.functions.delete(ref)
        await self.executor.discard(ref.arn)
        if ref.qualifier is None:
            self._mappings_changed()
        return {}

    def publish_version(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        return self._config(ref, self.functions.publish(ref, params), state="Pending")

    def list_versions_by_function(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        versions = self.functions.versions(ref)
        chosen, marker = _page(versions, params.get("Marker"), params.get("MaxItems"))
        out: Result = {
            # AWS quirk: in version listings $LATEST carries its qualifier in the ARN.
            "Versions": [_listed(self._config(ref, v, v.version)) for v in chosen]
        }
        if marker:
            out["NextMarker"] = marker
        return out

    def get_account_settings(self, ctx: RequestContext, params: Params) -> Result:
        store = self.functions.store
        count, total = store.usage(ctx.account_id, ctx.region)
        reserved = store.reserved_total(ctx.account_id, ctx.region, besides="")
        return {
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800,  # Lambda's default quota: 75 GB
                "CodeSizeUnzipped": MAX_UNZIPPED_BYTES,
                "CodeSizeZipped": MAX_ZIPPED_BYTES,
                "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY - reserved,
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": count},
        }

    # -- aliases ------------------------------------------------------------------------

    def create_alias(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        return self.aliases.create(ref, params).to_wire(ref.arn)

    def get_alias(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        return self.aliases.get(ref, params["Name"]).to_wire(ref.arn)

    def update_alias(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        return self.aliases.update(ref, params["Name"], params).to_wire(ref.arn)

    def delete_alias(self, ctx: RequestContext, params: Params) -> Result:
        self.aliases.delete(self._ref(ctx, params, qualified=False), params["Name"])
        return {}

    def list_aliases(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params, qualified=False)
        found = self.aliases.list(ref, params.get("FunctionVersion"))
        chosen, marker = _page(found, params.get("Marker"), params.get("MaxItems"))
        out: Result = {"Aliases": [a.to_wire(ref.arn) for a in chosen]}
        if marker:
            out["NextMarker"] = marker
        return out

    # -- invoke -------------------------------------------------------------------------

    async def invoke(self, ctx: RequestContext, params: Params) -> Result:
        ref = self._ref(ctx, params)
        kind = params.get("InvocationType") or "RequestResponse"
        raw = params.get("Payload") or b""
        # Sizes first: a payload over the limit is refused before anything reads it.
        if kind == "Event":
            if len(raw) > ASYNC_REQUEST_LIMIT:
                raise errors.event_too_large(len(raw), ASYNC_REQUEST_LIMIT)
            self.queue.enqueue(ref, check_payload(raw), ctx.request_id)
            return {"StatusCode": 202, "Payload": b""}
        if len(raw) > SYNC_REQUEST_LIMIT:
            raise errors.request_too_large(SYNC_REQUEST_LIMIT)
        target = self.invoker.target(ref)
        payload = check_payload(raw)
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        return await self.invoker.invoke_sync(
            target,
            payload,
            tail=params.get("LogType") == "Tail",
            client_context=_client_context(params.get("ClientContext")),
        )

    # -- concurrency --------------------------------------------------------------------

    def put_function_concurrency(self, ctx: RequestContext, params: Params) -> Result:
        value = int(params["ReservedConcurrentExecutions"])
        self.functions.put_concurrency(self._ref(ctx, params, qualified=False), value)
        return {"ReservedConcurrentExecutions": value}

    def get_function_concurrency(self, ctx: RequestContext, params: Params) -> Result:
        row = self.functions.function(self._ref(ctx, params, qualified=False))
        return {} if row.concurrency is None else {"ReservedConcurrentExecutions": row.concurrency}

    def delete_function_concurrency(self, ctx: RequestContext, params: Params) -> Result:
        self.functions.delete_concurrency(self._ref(ctx, params, qualified=False))
        return {}

    # -- permissions and tags -----------------------------------------------------------

    def add_permission(self, ctx: RequestContext, params: Params) -> Result:
        statement = self.policies.add(self._ref(ctx, params), params)
        return {"Statement": orjson.dumps(statement).decode()}

    def remove_permission(self, ctx: RequestContext, params: Params) -> Result:
        self.policies.remove(
            self._ref(ctx, params), params["StatementId"], params.get("RevisionId")
        )
        return {}

    def get_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy, revision = self.policies.get(self._ref(ctx, params))
        return {"Policy": policy, "RevisionId": revision}

    def _tagged(self, ctx: RequestContext, arn: str) -> FunctionRef:
        ref = parse_resource_arn(arn)
        if ref is None or ref.account != ctx.account_id:
            raise errors.invalid_parameter(f"Invalid resource ARN: {arn}")
        if ref.qualifier is not None:
            raise errors.invalid_parameter(
                "Tags are not supported on function versions or aliases; tag the function."
            )
        return ref

    def tag_resource(self, ctx: RequestContext, params: Params) -> Result:
        self.functions.tag(self._tagged(ctx, params["Resource"]), params.get("Tags") or {})
        return {}

    def untag_resource(self, ctx: RequestContext, params: Params) -> Result:
        self.functions.untag(self._tagged(ctx, params["Resource"]), params.get("TagKeys") or [])
        return {}

    def list_tags(self, ctx: RequestContext, params: Params) -> Result:
        return {"Tags": self.functions.function(self._tagged(ctx, params["Resource"])).tags}

    # -- event invoke configs -----------------------------------------------------------

    def put_function_event_invoke_config(self, ctx: RequestContext, params: Params) -> Result:
        return self.configs.put(self._ref(ctx, params), params, merge=False)

    def update_function_event_invoke_config(self, ctx: RequestContext, params: Params) -> Result:
        return self.configs.put(self._ref(ctx, params), params, merge=True)

    def get_function_event_invoke_config(self, ctx: RequestContext, params: Params) -> Result:
        return self.configs.get(self._ref(ctx, params))

    def delete_function_event_invoke_config(self, ctx: RequestContext, params: Params) -> Result:
        self.configs.delete(self._ref(ctx, params))
        return {}

    def list_function_event_invoke_configs(self, ctx: RequestContext, params: Params) -> Result:
        found = self.configs.list(self._ref(ctx, params, qualified=False))
        chosen, marker = _page(found, params.get("Marker"), params.get("MaxItems"))
        out: Result = {"FunctionEventInvokeConfigs": chosen}
        if marker:
            out["NextMarker"] = marker
        return out

    # -- event source mappings ----------------------------------------------------------

    def create_event_source_mapping(self, ctx: RequestContext, params: Params) -> Result:
        out = self.mappings.create(ctx.account_id, ctx.region, params)
        self._mappings_changed()
        return out

    def get_event_source_mapping(self, ctx: RequestContext, params: Params) -> Result:
        return self.mappings.get(params["UUID"])

    def update_event_source_mapping(self, ctx: RequestContext, params: Params) -> Result:
        out = self.mappings.update(ctx.account_id, ctx.region, params["UUID"], params)
        self._mappings_changed()
        return out

    def delete_event_source_mapping(self, ctx: RequestContext, params: Params) -> Result:
        out = self.mappings.delete(params["UUID"])
        self._mappings_changed()
        return out

    def list_event_source_mappings(self, ctx: RequestContext, params: Params) -> Result:
        found = self.mappings.list(
            ctx.account_id, ctx.region, params.get("EventSourceArn"), params.get("FunctionName")
        )
        chosen, marker = _page(found, params.get("Marker"), params.get("MaxItems"))
        out: Result = {"EventSourceMappings": chosen}
        if marker:
            out["NextMarker"] = marker
        return out


# AWS quirk: listings return a subset of FunctionConfiguration; the state members come only
# from GetFunction / GetFunctionConfiguration (API_ListFunctions.html).
_NOT_LISTED = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RuntimeVersionConfig",
)


def _listed(config: Result) -> Result:
    return {k: v for k, v in config.items() if k not in _NOT_LISTED}


def _page(
    items: Sequence[T], marker: str | None, max_items: int | None
) -> tuple[list[T], str | None]:
    """One page of ``items``; the marker is the position of the next page's first item."""
    start = 0
    if marker:
        try:
            start = int(marker)
        except ValueError:
            raise errors.invalid_parameter(f"Invalid marker: {marker}") from None
    size = max_items or 50
    chosen = list(items[start : start + size])
    following = start + size
    return chosen, (str(following) if following < len(items) else None)


def _client_context(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > CLIENT_CONTEXT_LIMIT:
        raise errors.invalid_parameter(
            f"Client context must be smaller than {CLIENT_CONTEXT_LIMIT} bytes"
        )
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
        orjson.loads(text)
    except (binascii.Error, UnicodeDecodeError, orjson.JSONDecodeError):
        raise errors.invalid_parameter(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    return text
