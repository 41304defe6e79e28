"""Loading and judging the recorded ASL conformance cases (../shared/conformance/asl).

Kept apart from the test module so a script can compute the pass rate with the same rules.
The README of the cases explains the format; the comparison rules are:

* status, output, error and cause must match, after applying the case's ``normalize`` pairs
  (and ``normalize_jsonpath``) to what we produced;
* where the case says it holds placeholders, ``<name>`` tokens in the expected text match any
  text, and the recording's stand-in words (``date``, ``X-Amzn-Trace-Id`` ...) match any value;
* ``expected.event_types`` must match our history's event types in order, except in
  executions with concurrent branches (a Parallel with several branches, a Map without
  ``MaxConcurrency: 1``), where AWS's order between branches is not deterministic and only the
  multiset of types is compared.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from headwater.core.clock import ManualClock
from headwater.core.ids import RandomIds, SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.history import HistoryEvent
from headwater.services.stepfunctions.local_lambda import LocalFunctions
from headwater.services.stepfunctions.runner import Runner, RunResult

ACCOUNT = "111111111111"  # the account the recorded definitions' ARNs name

REPO = Path(__file__).resolve().parents[2]

# Words the recording put in place of per-run values (whole values, not <tokens>).
STAND_INS = {"date", "X-Amzn-Trace-Id", "x-amzn-RequestId", "RequestId", "snf_role_arn",
             "sfn_role_arn", "start-time", "entered-time", "LogResult"}
_TOKEN = re.compile(r"<[^<>\s]+>")


def conformance_dir() -> Path:
    return Path(os.environ.get("HEADWATER_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))


def load_cases() -> list[dict[str, Any]]:
    path = conformance_dir() / "asl" / "cases.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def case_label(index: int, case: dict[str, Any]) -> str:
    short = case["id"].split("::", 1)[-1]
    return f"{index:03d}-{short}"[:120]


def handler_sources() -> dict[str, str]:
    """Each behaviour of asl/handlers.py as a stand-alone ``handler.py``: the function renamed
    ``handler`` on line 1 (so tracebacks carry AWS's line numbers), its helpers after it."""
    text = (conformance_dir() / "asl" / "handlers.py").read_text()
    tree = ast.parse(text)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    helpers = [ast.get_source_segment(text, n) or "" for n in tree.body
               if isinstance(n, ast.ClassDef)]
    out = {}
    for name, node in functions.items():
        source = ast.get_source_segment(text, node) or ""
        source = source.replace(f"def {name}(", "def handler(", 1)
        out[name] = source + "\n\n\n" + "\n\n\n".join(helpers) + "\n"
    return out


def run_case(case: dict[str, Any]) -> RunResult:
    clock, ids = ManualClock(), SequentialIds()
    handlers = {}
    if case.get("lambdas"):
        functions = LocalFunctions(ids, clock, region="us-east-1", account="111111111111")
        sources = handler_sources()
        for fn in case["lambdas"]:
            functions.add_source(fn["name"], sources[fn["behaviour"]])
        handlers = functions.handlers()
    program = parse_definition(case["definition"])
    runner = Runner(program, handlers, clock=clock, ids=ids,
                    state_machine_name="conformance-machine", account="111111111111")
    return runner.run(case["input"], name="conformance-execution",
                      execution_type=case.get("state_machine_type", "STANDARD"))


class ApiRun:
    """Runs cases through boto3 against a running headwater (``testing.running_headwater``):
    Lambda handlers deployed through the real Lambda service when it is there (in-process
    handlers registered on the Step Functions facade otherwise), STANDARD cases started and
    polled, their history read with GetExecutionHistory, EXPRESS cases through
    StartSyncExecution."""

    def __init__(self, hw: Any, cases: list[dict[str, Any]]) -> None:
        from botocore.config import Config

        self.hw = hw
        config = Config(inject_host_prefix=False, retries={"max_attempts": 3},
                        read_timeout=120, max_pool_connections=64)
        self.sfn = hw.client("stepfunctions", config=config)
        self.through_lambda = "lambda" in hw.gateway.services
        self._deploy([fn for case in cases for fn in case.get("lambdas") or []])

    def _deploy(self, functions: list[dict[str, Any]]) -> None:
        import io
        import zipfile

        sources = handler_sources()
        wanted = {fn["name"]: fn for fn in functions}
        if not self.through_lambda:
            local = LocalFunctions(RandomIds(), _WallClock(), region="us-east-1", account=ACCOUNT)
            for name, fn in wanted.items():
                local.add_source(name, sources[fn["behaviour"]])
            self.hw.gateway.env.facades["stepfunctions"].register_handlers(local.handlers())
            return
        client = self.hw.client("lambda")
        for name, fn in wanted.items():
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                # The module's imports go last so the handler's line numbers stay AWS's.
                archive.writestr("handler.py", sources[fn["behaviour"]] + "\nimport time\n")
            client.create_function(
                FunctionName=name, Runtime=fn.get("runtime", "python3_12").replace("_", "."),
                Role=f"arn:aws:iam::{ACCOUNT}:role/conformance", Handler="handler.handler",
                Code={"ZipFile": buffer.getvalue()}, Timeout=90)

    def prepare_s3(self, cases: list[dict[str, Any]]) -> None:
        """The buckets and objects the recorded S3 cases had: ``s3_objects``, the bucket
        an input names (unless the case is about a bucket that does not exist) and the bucket
        a Distributed Map's ResultWriter writes to."""
        s3 = self.hw.client("s3")
        buckets: set[str] = set()
        for case in cases:
            buckets.update(_result_buckets(case["definition"]))
            for item in case.get("s3_objects") or []:
                buckets.add(item["bucket"])
            named = case["input"].get("Bucket") if isinstance(case["input"], dict) else None
            if isinstance(named, str) and "nonexistent" not in named.lower():
                buckets.add(named)
        for bucket in sorted(buckets):
            s3.create_bucket(Bucket=bucket)
        for case in cases:
            for item in case.get("s3_objects") or []:
                body = item["body"]
                s3.put_object(Bucket=item["bucket"], Key=item["key"],
                              Body=body if isinstance(body, str) else json.dumps(body))

    def run(self, index: int, case: dict[str, Any]) -> RunResult:
        import time

        kind = case.get("state_machine_type", "STANDARD")
        arn = self.sfn.create_state_machine(
            name=f"conformance-{index}", definition=json.dumps(case["definition"]),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/conformance", type=kind)["stateMachineArn"]
        text = json.dumps(case["input"])
        if kind == "EXPRESS":
            reply = self.sfn.start_sync_execution(stateMachineArn=arn, input=text)
            return _result(reply, [])
        arn = self.sfn.start_execution(stateMachineArn=arn, name="conformance-execution",
                                       input=text)["executionArn"]
        deadline = time.monotonic() + 90
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        events: list[HistoryEvent] = []
        token = None
        while True:
            page = self.sfn.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
            events += [HistoryEvent(e["id"], e.get("previousEventId", 0), 0.0, e["type"])
                       for e in page["events"]]
            token = page.get("nextToken")
            if not token:
                break
        return _result(described, events)


def _result_buckets(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        writer = node.get("ResultWriter")
        if isinstance(writer, dict):
            bucket = (writer.get("Parameters") or writer.get("Arguments") or {}).get("Bucket")
            if isinstance(bucket, str) and "{%" not in bucket:
                found.add(bucket)
        for value in node.values():
            found |= _result_buckets(value)
    elif isinstance(node, list):
        for value in node:
            found |= _result_buckets(value)
    return found


class _WallClock:
    def now(self) -> float:
        import time

        return time.time()

    def monotonic(self) -> float:
        import time

        return time.monotonic()


def _result(described: dict[str, Any], events: list[HistoryEvent]) -> RunResult:
    output = described.get("output")
    return RunResult(described["status"], json.loads(output) if output is not None else None,
                     described.get("error"), described.get("cause"), events)


def concurrent(definition: Any) -> bool:
    found = False

    def walk(node: Any) -> None:
        nonlocal found
        if isinstance(node, dict):
            kind = node.get("Type")
            if kind == "Parallel" and len(node.get("Branches") or []) > 1:
                found = True
            if kind == "Map" and node.get("MaxConcurrency") != 1:
                found = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return found


def normalize(case: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    text = json.dumps(value)
    for actual, placeholder in case.get("normalize", []):
        text = text.replace(actual, placeholder)
    out = json.loads(text)
    for path, placeholder in case.get("normalize_jsonpath", []):
        out = _replace_deep(out, path.split("..", 1)[1], placeholder)
    return out


def _replace_deep(value: Any, key: str, placeholder: str) -> Any:
    if isinstance(value, dict):
        return {k: placeholder if k == key else _replace_deep(v, key, placeholder)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_deep(v, key, placeholder) for v in value]
    return value


def loose_equal(expected: Any, actual: Any, loose: bool) -> bool:
    if isinstance(expected, str):
        if isinstance(actual, str) and expected == actual:
            return True
        if not loose:
            return False
        if expected in STAND_INS:
            return True
        if isinstance(actual, str) and _TOKEN.search(expected):
            pattern = ".*?".join(re.escape(p) for p in _TOKEN.split(expected))
            return re.fullmatch(pattern, actual, re.DOTALL) is not None
        return False
    if isinstance(expected, dict):
        return isinstance(actual, dict) and expected.keys() == actual.keys() and all(
            loose_equal(v, actual[k], loose) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            loose_equal(e, a, loose) for e, a in zip(expected, actual))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def judge(case: dict[str, Any], result: RunResult) -> list[str]:
    """What differs from the recording (empty when the case passes)."""
    expected = case["expected"]
    loose = bool(case.get("has_placeholders") or case.get("has_time_placeholders")
                 or case.get("normalize"))
    problems = []
    if result.status != expected["status"]:
        problems.append(f"status {result.status} != {expected['status']} "
                        f"({result.error}: {str(result.cause)[:300]})")
        return problems
    if expected["status"] == "SUCCEEDED":
        output = normalize(case, result.output)
        if not loose_equal(expected.get("output"), output, loose):
            problems.append(f"output {json.dumps(output)[:600]} != "
                            f"{json.dumps(expected.get('output'))[:600]}")
    else:
        if not loose_equal(expected.get("error"), normalize(case, result.error), loose):
            problems.append(f"error {result.error!r} != {expected.get('error')!r}")
        want_cause = expected.get("cause")
        got_cause: Any = normalize(case, result.cause)
        if isinstance(want_cause, (dict, list)) and isinstance(got_cause, str):
            try:
                got_cause = json.loads(got_cause)
            except ValueError:
                pass
        if not loose_equal(want_cause, got_cause, loose):
            problems.append(f"cause {got_cause!r} != {want_cause!r}")
    want_types = expected.get("event_types")
    if want_types is not None:
        got_types = [e.type for e in result.history]
        if concurrent(case["definition"]):
            if Counter(got_types) != Counter(want_types):
                problems.append(f"event types (as a multiset) {got_types} != {want_types}")
        elif got_types != want_types:
            problems.append(f"event types {got_types} != {want_types}")
    return problems
