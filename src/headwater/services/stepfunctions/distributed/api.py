"""The map run operations of the Step Functions API: DescribeMapRun, ListMapRuns,
UpdateMapRun, and ListExecutions of a map run's children.

Implements https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html,
API_ListMapRuns.html and API_UpdateMapRun.html over the map run records of
``distributed.store``. A mixin of ``adapter.SfnAdapter`` (its ``sfn`` and ``driver``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.services.stepfunctions import errors
from headwater.services.stepfunctions.distributed.store import MapRunRow

if TYPE_CHECKING:
    from headwater.protocol.context import RequestContext
    from headwater.services.stepfunctions.distributed.maprun import MapRuns
    from headwater.services.stepfunctions.driver import Driver
    from headwater.services.stepfunctions.model import StepFunctions

Params = dict[str, Any]
Result = dict[str, Any]
MAX_PAGE = 1000


class MapRunApi:
    if TYPE_CHECKING:
        sfn: StepFunctions
        driver: Driver

    @property
    def _runs(self) -> MapRuns:
        runs = self.driver.map_runs
        if runs is None:  # only a driver built without the service has none
            raise errors.validation("Map runs are not available in this run")
        return runs

    def _map_run(self, arn: str) -> MapRunRow:
        parts = arn.split(":")
        if len(parts) != 8 or parts[0] != "arn" or parts[2] != "states" or \
                parts[5] != "mapRun":
            raise errors.invalid_arn(arn)
        row = self._runs.store.run(arn)
        if row is None:
            raise errors.resource_not_found(arn)
        return row

    def describe_map_run(self, ctx: RequestContext, params: Params) -> Result:
        row = self._map_run(params["mapRunArn"])
        run = self._runs.active.get(row.arn)
        live = run.row if run is not None else row  # UpdateMapRun changes the live copy
        items, executions = self._runs.counts(row.arn)
        out: Result = {
            "mapRunArn": row.arn, "executionArn": row.execution_arn, "status": row.status,
            "startDate": row.started, "maxConcurrency": live.max_concurrency,
            "toleratedFailurePercentage": live.tolerated_percentage,
            "toleratedFailureCount": live.tolerated_count,
            "itemCounts": items, "executionCounts": executions,
            "redriveCount": row.redrive_count,
        }
        if row.redrive_date is not None:
            out["redriveDate"] = row.redrive_date
        if row.stopped is not None:
            out["stopDate"] = row.stopped
        return out

    def list_map_runs(self, ctx: RequestContext, params: Params) -> Result:
        execution = self.sfn.execution(params["executionArn"])
        rows = self._runs.store.runs(execution.arn)
        start = _offset(params.get("nextToken"))
        size = min(params.get("maxResults") or 100, MAX_PAGE)
        chosen = rows[start:start + size]
        out: Result = {"mapRuns": []}
        for row in chosen:
            entry: Result = {"executionArn": row.execution_arn, "mapRunArn": row.arn,
                             "stateMachineArn": execution.machine_arn, "startDate": row.started}
            if row.stopped is not None:
                entry["stopDate"] = row.stopped
            out["mapRuns"].append(entry)
        if start + size < len(rows):
            out["nextToken"] = str(start + size)
        return out

    def update_map_run(self, ctx: RequestContext, params: Params) -> Result:
        row = self._map_run(params["mapRunArn"])
        concurrency = params.get("maxConcurrency")
        percentage = params.get("toleratedFailurePercentage")
        count = params.get("toleratedFailureCount")
        if concurrency is None and percentage is None and count is None:
            raise errors.validation("At least one of the parameters maxConcurrency, "
                                    "toleratedFailurePercentage or toleratedFailureCount must "
                                    "be specified")
        if percentage is not None and not 0 <= percentage <= 100:
            raise errors.validation("toleratedFailurePercentage must be between 0 and 100")
        if row.status != "RUNNING":
            raise errors.validation(f"Map Run is {row.status} and cannot be updated")
        self._runs.update(row.arn, concurrency,
                                    float(percentage) if percentage is not None else None,
                                    count)
        return {}

    def map_run_executions(self, arn: str) -> list[str]:
        """The ARNs of a map run's child executions (ListExecutions with ``mapRunArn``)."""
        row = self._map_run(arn)
        items = self._runs.store.items(row.arn)
        return [i.child_arn for i in items if i.child_arn is not None]


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(token)
    except ValueError:
        raise errors.invalid_token(token) from None


__all__ = ["MapRunApi"]
