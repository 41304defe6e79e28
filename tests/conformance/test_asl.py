"""The recorded ASL executions (../shared/conformance/asl), run through boto3 against a real
headwater server and judged on status, output, error, cause and GetExecutionHistory's event
types.

One server per module: every case's state machine is created and started up front from a pool
of client threads (so the few cases that really wait overlap), then each test judges its case.
Lambda cases deploy their handlers from ``asl/handlers.py`` through the Lambda service (or,
where Lambda is not registered, register them in-process on the Step Functions facade). S3
cases (Tasks, the Distributed Map's ItemReader and ResultWriter) get the buckets and objects
their recording had. ``HEADWATER_CONFORMANCE_LANE=inprocess`` runs
the cases through the in-process runner instead. The lane is skipped when the cases are not
there. Known differences are listed in docs/stepfunctions.md and marked xfail (not strict).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asl_cases import ACCOUNT, ApiRun, case_label, judge, load_cases, run_case

from headwater.services.stepfunctions.runner import RunResult
from headwater.testing import running_headwater

CASES = load_cases()
IN_PROCESS = os.environ.get("HEADWATER_CONFORMANCE_LANE") == "inprocess"

# Case id -> why we differ from the recording. Keep docs/stepfunctions.md in step.
KNOWN_DIFFERENCES = {
    "tests/aws/services/stepfunctions/v2/context_object/test_context_object.py::TestSnfBase::"
    "test_result_selector": "Content-Length of the lambda:invoke response depends on the "
    "function name AWS generated for the recording, which the case no longer holds",
    "tests/aws/services/stepfunctions/v2/states_variables/test_error_output.py::"
    "TestStateVariablesTemplate::test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY]":
    "AWS recorded TaskFailed before TaskScheduled inside one branch (events with equal "
    "timestamps); our history is in causal order",
    "tests/aws/services/stepfunctions/v2/states_variables/test_error_output.py::"
    "TestStateVariablesTemplate::test_parallel_catch_error[PARALLEL_CATCH_ERROR_VARIABLE_SAMPLING]":
    "AWS recorded TaskFailed before TaskScheduled inside one branch (events with equal "
    "timestamps); our history is in causal order",
    "tests/aws/services/stepfunctions/v2/timeouts/test_timeouts.py::TestTimeouts::"
    "test_service_lambda_map_timeout": "AWS timed out all four iterations' tasks at the same "
    "instant before tearing the Map down; we tear it down at the first timeout, so three "
    "TaskTimedOut events are TaskStateAborted instead",
}


def _runnable(case: dict[str, Any]) -> bool:
    """S3 cases (S3 Tasks, the Distributed Map's ItemReader and ResultWriter) run through the
    API, against headwater's S3; the in-process runner has no S3."""
    if case["needs"] != ["s3"]:
        return True
    return not IN_PROCESS


def _params() -> list[object]:
    out = []
    for index, case in enumerate(CASES):
        marks = []
        if not _runnable(case):
            marks.append(pytest.mark.skip(reason="needs S3 (the in-process lane has none)"))
        reason = KNOWN_DIFFERENCES.get(case["id"])
        if reason:
            marks.append(pytest.mark.xfail(reason=reason, strict=False))
        out.append(pytest.param(index, id=case_label(index, case), marks=marks))
    return out


@pytest.fixture(scope="module")
def results() -> Iterator[dict[int, RunResult | BaseException]]:
    wanted = [(i, c) for i, c in enumerate(CASES) if _runnable(c)]
    if IN_PROCESS:
        yield {i: run_case(c) for i, c in wanted}
        return
    with running_headwater(account_id=ACCOUNT) as hw:
        api = ApiRun(hw, [c for _, c in wanted])
        s3_cases = [c for _, c in wanted if c["needs"] == ["s3"]]
        if s3_cases:
            api.prepare_s3(s3_cases)

        def one(item: tuple[int, dict[str, Any]]) -> RunResult | BaseException:
            try:
                return api.run(*item)
            except Exception as exc:  # noqa: BLE001 - reported by the case's own test
                return exc

        with ThreadPoolExecutor(max_workers=32) as pool:
            yield dict(zip([i for i, _ in wanted], pool.map(one, wanted)))


@pytest.mark.skipif(not CASES, reason="conformance cases not found (HEADWATER_CONFORMANCE_DIR)")
@pytest.mark.parametrize("index", _params())
def test_asl_case(index: int, results: dict[int, RunResult | BaseException]) -> None:
    result = results[index]
    if isinstance(result, BaseException):
        raise result
    problems = judge(CASES[index], result)
    assert not problems, "\n".join(problems)
