"""Step Functions on the wire: one method per operation, wire dicts in and out.

The gateway has parsed the request into the operation's input shape (the model's lowerCamel
member names) and checked its constraints; each method maps it onto ``model.StepFunctions``
or the driver and maps the result onto the output shape.  GetActivityTask (long poll) and
StartSyncExecution (waits for the end) are async.

Operations are those of https://docs.aws.amazon.com/step-functions/latest/apireference/ .
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from headwater.protocol.context import RequestContext
from headwater.services.stepfunctions import errors
from headwater.services.stepfunctions.asl.parser import validate_definition
from headwater.services.stepfunctions.distributed.api import MapRunApi
from headwater.services.stepfunctions.driver import Live, describe_live
from headwater.services.stepfunctions.model import (
    DEFAULT_LOGGING,
    DEFAULT_TRACING,
    StepFunctions,
    check_name,
    tags_from,
)
from headwater.services.stepfunctions.store import AliasRow, ExecutionRow, VersionRow
from headwater.services.stepfunctions.teststate import test_state as run_test_state

Params = dict[str, Any]
Result = dict[str, Any]
MAX_HISTORY_PAGE = 1000
MAX_LIST_PAGE = 1000


def _page(items: list[Any], params: Params, default: int = 100) -> tuple[list[Any], str | None]:
    """A page of ``items`` from ``nextToken`` (an offset) and ``maxResults``."""
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise errors.invalid_token(token) from None
    size = params.get("maxResults") or default
    size = min(size, MAX_LIST_PAGE)
    chosen = items[start:start + size]
    return chosen, (str(start + size) if start + size < len(items) else None)


class SfnAdapter(MapRunApi):
    def __init__(self, sfn: StepFunctions) -> None:
        self.sfn = sfn
        self.driver = sfn.driver

    # -- state machines -----------------------------------------------------------------

    def create_state_machine(self, ctx: RequestContext, params: Params) -> Result:
        machine, version = self.sfn.create_machine(params)
        out: Result = {"stateMachineArn": machine.arn, "creationDate": machine.created}
        if version is not None:
            out["stateMachineVersionArn"] = version.arn
        return out

    def describe_state_machine(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["stateMachineArn"]
        target = self.sfn.resolve(arn)
        machine = target.machine
        if target.alias is not None:
            raise errors.invalid_arn(arn)
        version = target.version
        out: Result = {
            "stateMachineArn": version.arn if version else machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": self.sfn.store.definition(version.sha if version else machine.sha),
            "roleArn": version.role_arn if version else machine.role_arn,
            "type": machine.type,
            "creationDate": version.created if version else machine.created,
            "loggingConfiguration": machine.logging or DEFAULT_LOGGING,
            "tracingConfiguration": machine.tracing or DEFAULT_TRACING,
            "revisionId": version.revision_id if version else machine.revision_id,
        }
        if version is not None and version.description:
            out["description"] = version.description
        if machine.encryption:
            out["encryptionConfiguration"] = machine.encryption
        return out

    def update_state_machine(self, ctx: RequestContext, params: Params) -> Result:
        machine, version = self.sfn.update_machine(params)
        out: Result = {"updateDate": machine.updated, "revisionId": machine.revision_id}
        if version is not None:
            out["stateMachineVersionArn"] = version.arn
        return out

    def delete_state_machine(self, ctx: RequestContext, params: Params) -> Result:
        self.sfn.delete_machine(params["stateMachineArn"])
        return {}

    def list_state_machines(self, ctx: RequestContext, params: Params) -> Result:
        machines = self.sfn.store.machines()
        chosen, token = _page(machines, params)
        out: Result = {"stateMachines": [
            {"stateMachineArn": m.arn, "name": m.name, "type": m.type, "creationDate": m.created}
            for m in chosen]}
        if token:
            out["nextToken"] = token
        return out

    def validate_state_machine_definition(self, ctx: RequestContext, params: Params) -> Result:
        diagnostics = validate_definition(params["definition"])
        failed = any(d.severity == "ERROR" for d in diagnostics)
        limit = params.get("maxResults") or 100
        return {"result": "FAIL" if failed else "OK",
                "diagnostics": [d.to_wire() for d in diagnostics[:limit]],
                "truncated": len(diagnostics) > limit}

    # -- versions and aliases -----------------------------------------------------------

    def publish_state_machine_version(self, ctx: RequestContext, params: Params) -> Result:
        version = self.sfn.publish(params["stateMachineArn"], params.get("description"),
                                   params.get("revisionId"))
        return {"creationDate": version.created, "stateMachineVersionArn": version.arn}

    def list_state_machine_versions(self, ctx: RequestContext, params: Params) -> Result:
        machine = self.sfn.machine(params["stateMachineArn"])
        chosen, token = _page(self.sfn.store.versions(machine.arn), params)
        out: Result = {"stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.created} for v in chosen]}
        if token:
            out["nextToken"] = token
        return out

    def delete_state_machine_version(self, ctx: RequestContext, params: Params) -> Result:
        self.sfn.delete_version(params["stateMachineVersionArn"])
        return {}

    def create_state_machine_alias(self, ctx: RequestContext, params: Params) -> Result:
        alias = self.sfn.create_alias(params["name"], params.get("description"),
                                      params["routingConfiguration"])
        return {"stateMachineAliasArn": alias.arn, "creationDate": alias.created}

    def describe_state_machine_alias(self, ctx: RequestContext, params: Params) -> Result:
        return _alias(self.sfn.alias(params["stateMachineAliasArn"]))

    def update_state_machine_alias(self, ctx: RequestContext, params: Params) -> Result:
        alias = self.sfn.update_alias(params["stateMachineAliasArn"], params.get("description"),
                                      params.get("routingConfiguration"))
        return {"updateDate": alias.updated}

    def delete_state_machine_alias(self, ctx: RequestContext, params: Params) -> Result:
        alias = self.sfn.alias(params["stateMachineAliasArn"])
        self.sfn.store.delete_alias(alias.arn)
        return {}

    def list_state_machine_aliases(self, ctx: RequestContext, params: Params) -> Result:
        machine = self.sfn.machine(params["stateMachineArn"])
        chosen, token = _page(self.sfn.store.aliases(machine.arn), params)
        out: Result = {"stateMachineAliases": [
            {"stateMachineAliasArn": a.arn, "creationDate": a.created} for a in chosen]}
        if token:
            out["nextToken"] = token
        return out

    # -- executions ---------------------------------------------------------------------

    def start_execution(self, ctx: RequestContext, params: Params) -> Result:
        live = self.sfn.start(params)
        return {"executionArn": live.arn, "startDate": live.state.start_time}

    async def start_sync_execution(self, ctx: RequestContext, params: Params) -> Result:
        live = self.sfn.start(params, sync=True)
        if not live.state.finished:
            ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def end(_: Live) -> None:
                if not ended.done():
                    ended.set_result(None)

            live.watchers.append(end)
            await ended
        out = describe_live(live)
        out["billingDetails"] = _billing(live)
        if params.get("includedData") == "METADATA_ONLY":
            for key in ("input", "output"):
                out.pop(key, None)
            out["inputDetails"] = {"included": False}
            if "outputDetails" in out:
                out["outputDetails"] = {"included": False}
        return out

    def stop_execution(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["executionArn"]
        row = self.sfn.execution(arn)
        self.driver.stop_execution(arn, params.get("error"), params.get("cause"))
        row = self.sfn.execution(arn)
        return {"stopDate": row.stopped or self.sfn.clock.now()}

    def describe_execution(self, ctx: RequestContext, params: Params) -> Result:
        row = self.sfn.execution(params["executionArn"])
        out = _execution(row)
        out["input"] = row.input
        out["inputDetails"] = {"included": True}
        if row.output is not None:
            out["output"] = row.output
            out["outputDetails"] = {"included": True}
        if row.error is not None:
            out["error"] = row.error
        if row.cause is not None:
            out["cause"] = row.cause
        if row.trace_header:
            out["traceHeader"] = row.trace_header
        if "/" in row.machine_arn.rsplit(":", 1)[-1] and self.driver.map_runs is not None:
            # A distributed map's child (its state machine is MACHINE/LABEL): name its run.
            map_run = self.driver.map_runs.store.child_map_run(row.arn)
            if map_run is not None:
                out["mapRunArn"] = map_run
        out["redriveCount"] = row.redrive_count
        if row.redrive_date is not None:
            out["redriveDate"] = row.redrive_date
        if row.status in ("FAILED", "TIMED_OUT", "ABORTED"):
            out["redriveStatus"] = "REDRIVABLE"
        else:
            out["redriveStatus"] = "NOT_REDRIVABLE"
            out["redriveStatusReason"] = f"Execution is {row.status} and cannot be redriven"
        if params.get("includedData") == "METADATA_ONLY":
            out.pop("input", None)
            out.pop("output", None)
            out["inputDetails"] = {"included": False}
        return out

    def list_executions(self, ctx: RequestContext, params: Params) -> Result:
        if params.get("mapRunArn"):
            if params.get("stateMachineArn"):
                raise errors.validation("Only one of stateMachineArn or mapRunArn can be given")
            found = [self.sfn.store.execution(a) for a in
                     self.map_run_executions(params["mapRunArn"])]
            children = [r for r in found if r is not None]
            if params.get("statusFilter"):
                children = [r for r in children if r.status == params["statusFilter"]]
            children.sort(key=lambda r: (r.started, r.id), reverse=True)
            page, next_token = _page(children, params)
            listed: Result = {"executions": [
                {**_execution(r), "mapRunArn": params["mapRunArn"]} for r in page]}
            if next_token:
                listed["nextToken"] = next_token
            return listed
        arn = params.get("stateMachineArn")
        if not arn:
            raise errors.validation("Must provide a StateMachine ARN or MapRun ARN")
        target = self.sfn.resolve(arn)
        if target.machine.type == "EXPRESS":
            raise errors.type_not_supported(
                "This operation is not supported by this type of state machine")
        qualified = target.alias.arn if target.alias else (
            target.version.arn if target.version else None)
        rows = self.sfn.store.executions(target.machine.arn, params.get("statusFilter"),
                                         qualified)
        redrive = params.get("redriveFilter")
        if redrive == "REDRIVEN":
            rows = [r for r in rows if r.redrive_count > 0]
        elif redrive == "NOT_REDRIVEN":
            rows = [r for r in rows if r.redrive_count == 0]
        chosen, token = _page(rows, params)
        out: Result = {"executions": [_execution(r) for r in chosen]}
        if token:
            out["nextToken"] = token
        return out

    def get_execution_history(self, ctx: RequestContext, params: Params) -> Result:
        row = self.sfn.execution(params["executionArn"])
        size = min(params.get("maxResults") or MAX_HISTORY_PAGE, MAX_HISTORY_PAGE)
        reverse = bool(params.get("reverseOrder"))
        after = 0
        token = params.get("nextToken")
        if token:
            try:
                after = int(token)
            except ValueError:
                raise errors.invalid_token(token) from None
        events = self.sfn.store.events(row.id, after, size + 1, reverse)
        include = params.get("includeExecutionData", True)
        out: Result = {"events": [e.to_wire(include) for e in events[:size]]}
        if len(events) > size:
            out["nextToken"] = str(events[size - 1].id)
        return out

    def describe_state_machine_for_execution(self, ctx: RequestContext, params: Params) -> Result:
        row = self.sfn.execution(params["executionArn"])
        machine = self.sfn.store.machine(row.machine_arn)
        out: Result = {
            "stateMachineArn": row.version_arn or row.machine_arn,
            "name": row.machine_arn.split(":")[6],
            "definition": self._definition(row.sha),
            "roleArn": row.role_arn,
            "updateDate": machine.updated if machine else row.started,
            "loggingConfiguration": machine.logging if machine else DEFAULT_LOGGING,
            "tracingConfiguration": machine.tracing if machine else DEFAULT_TRACING,
        }
        if machine is not None:
            out["revisionId"] = machine.revision_id
        return out

    def _definition(self, sha: str) -> str:
        """A definition by SHA; ``SHA#LOCATION`` (a distributed map's child) is the
        ItemProcessor at that JSON pointer, without its ProcessorConfig."""
        base, _, location = sha.partition("#")
        text = self.sfn.store.definition(base)
        if not location or not text:
            return text
        node: Any = orjson.loads(text)
        for part in location.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node.get(part, {})
        if isinstance(node, dict):
            node = {k: v for k, v in node.items() if k != "ProcessorConfig"}
        return orjson.dumps(node).decode()

    def redrive_execution(self, ctx: RequestContext, params: Params) -> Result:
        row = self.sfn.execution(params["executionArn"])
        if row.arn.split(":")[5] == "express":
            raise errors.not_redrivable(row.arn, "Express executions cannot be redriven")
        if row.status == "RUNNING":
            raise errors.not_redrivable(row.arn, "Execution is RUNNING and cannot be redriven")
        if row.status == "SUCCEEDED":
            raise errors.not_redrivable(row.arn, "Execution is SUCCEEDED and cannot be redriven")
        self.driver.redrive(row)
        return {"redriveDate": self.sfn.execution(row.arn).redrive_date}

    async def test_state(self, ctx: RequestContext, params: Params) -> Result:
        return await run_test_state(self.sfn, params)

    # -- task tokens and activities -----------------------------------------------------

    def send_task_success(self, ctx: RequestContext, params: Params) -> Result:
        try:
            output = orjson.loads(params["output"])
        except orjson.JSONDecodeError as exc:
            raise errors.invalid_output(str(exc)) from None
        if not self.driver.task_success(params["taskToken"], output):
            raise _token_error(params["taskToken"])
        return {}

    def send_task_failure(self, ctx: RequestContext, params: Params) -> Result:
        if not self.driver.task_failure(params["taskToken"], params.get("error"),
                                        params.get("cause")):
            raise _token_error(params["taskToken"])
        return {}

    def send_task_heartbeat(self, ctx: RequestContext, params: Params) -> Result:
        if not self.driver.task_heartbeat(params["taskToken"]):
            raise _token_error(params["taskToken"])
        return {}

    def create_activity(self, ctx: RequestContext, params: Params) -> Result:
        name = params["name"]
        check_name(name)
        arn = self.sfn.activity_arn(name)
        found = self.sfn.store.activity(arn)
        if found is None:
            tags = tags_from(params.get("tags"))
            self.sfn.store.put_activity(arn, name, self.sfn.clock.now(), tags)
            found = self.sfn.store.activity(arn)
        assert found is not None
        return {"activityArn": arn, "creationDate": found[2]}

    def describe_activity(self, ctx: RequestContext, params: Params) -> Result:
        arn, name, created, _ = self.sfn.activity(params["activityArn"])
        return {"activityArn": arn, "name": name, "creationDate": created}

    def delete_activity(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["activityArn"]
        parts = arn.split(":")
        if len(parts) != 7 or parts[5] != "activity":
            raise errors.invalid_arn(arn)
        self.sfn.store.delete_activity(arn)
        self.driver.activities.drop(arn)
        return {}

    def list_activities(self, ctx: RequestContext, params: Params) -> Result:
        chosen, token = _page(self.sfn.store.activities(), params)
        out: Result = {"activities": [{"activityArn": a, "name": n, "creationDate": c}
                                      for a, n, c in chosen]}
        if token:
            out["nextToken"] = token
        return out

    async def get_activity_task(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["activityArn"]
        self.sfn.activity(arn)
        found = await self.driver.activities.get(arn)
        if found is None:
            return {}
        return {"taskToken": found[0], "input": found[1]}

    # -- tags ---------------------------------------------------------------------------

    def tag_resource(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["resourceArn"]
        tags = dict(self.sfn.tags_of(arn))
        tags.update(tags_from(params.get("tags")))
        self.sfn.set_tags(arn, tags)
        return {}

    def untag_resource(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["resourceArn"]
        tags = dict(self.sfn.tags_of(arn))
        for key in params.get("tagKeys") or []:
            tags.pop(key, None)
        self.sfn.set_tags(arn, tags)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: Params) -> Result:
        tags = self.sfn.tags_of(params["resourceArn"])
        return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}


def _token_error(token: str) -> Exception:
    # AWS: a token of a task that ended (or never was) is TaskTimedOut when well formed.
    if not token or len(token) > 2048:
        return errors.invalid_token()
    return errors.task_timed_out()


def _execution(row: ExecutionRow) -> Result:
    out: Result = {"executionArn": row.arn, "stateMachineArn": row.machine_arn,
                   "name": row.name, "status": row.status, "startDate": row.started}
    if row.stopped is not None:
        out["stopDate"] = row.stopped
    if row.version_arn:
        out["stateMachineVersionArn"] = row.version_arn
    if row.alias_arn:
        out["stateMachineAliasArn"] = row.alias_arn
    if row.redrive_count:
        out["redriveCount"] = row.redrive_count
        out["redriveDate"] = row.redrive_date
    return out


def _alias(alias: AliasRow) -> Result:
    out: Result = {"stateMachineAliasArn": alias.arn, "name": alias.name,
                   "routingConfiguration": alias.routing, "creationDate": alias.created,
                   "updateDate": alias.updated}
    if alias.description:
        out["description"] = alias.description
    return out


def _billing(live: Live) -> Result:
    """StartSyncExecution's billingDetails: AWS bills Express by 100 ms and 64 MB steps."""
    st = live.state
    millis = max(0.0, ((st.stop_time or st.start_time) - st.start_time) * 1000)
    billed = max(100, int(-(-millis // 100)) * 100)
    return {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}


__all__ = ["SfnAdapter", "VersionRow"]
