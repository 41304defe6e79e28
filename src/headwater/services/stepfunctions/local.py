"""``headwater sfn run`` / ``headwater sfn validate``: a state machine run or checked in this
process, without a server. The click commands in ``headwater.cli`` only parse options and call
these functions.

``--mock-config FILE --test-case NAME`` answers the named states' tasks from Step Functions
Local's mock configuration (``mocks.MockConfig``); states the test case does not mock call
the ``--function`` handlers as usual.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

import orjson

from headwater.core.clock import ManualClock, SystemClock
from headwater.core.ids import RandomIds
from headwater.services.stepfunctions.asl import InvalidDefinition, parse_definition
from headwater.services.stepfunctions.asl.parser import validate_definition
from headwater.services.stepfunctions.local_lambda import LocalFunctions
from headwater.services.stepfunctions.mocks import MockConfig, returned
from headwater.services.stepfunctions.runner import (
    NoHandler,
    Runner,
    TaskHandler,
    TaskRequest,
)


def read_input(value: str) -> Any:
    """``--input``: JSON text, or ``@path`` to read it from a file."""
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    return orjson.loads(text)


def validate(path: Path, out: TextIO) -> int:
    diagnostics = validate_definition(path.read_bytes())
    failed = any(d.severity == "ERROR" for d in diagnostics)
    report = {"result": "FAIL" if failed else "OK",
              "diagnostics": [d.to_wire() for d in diagnostics]}
    out.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 1 if failed else 0


def mocked(handlers: dict[str, TaskHandler], config: MockConfig, machine: str,
           test_case: str) -> dict[str, TaskHandler]:
    """Handlers that answer from the mock configuration first, then from ``handlers``."""
    attempts: dict[str, int] = {}

    def handle(request: TaskRequest) -> Any:
        attempt = attempts.get(request.state_name, 0)
        attempts[request.state_name] = attempt + 1
        outcome = config.response(machine, test_case, request.state_name, attempt)
        if outcome is not None:
            return returned(outcome)
        arn = request.resource.arn
        for key in (arn, arn.rsplit(".", 1)[0], ":".join(arn.split(":")[:7])):
            if key in handlers:
                return handlers[key](request)
        raise NoHandler(arn)

    return {"*": handle}


def run(path: Path, execution_input: Any, execution_type: str, show_history: bool,
        real_time: bool, functions: list[str], out: TextIO, err: TextIO,
        mock_config: Path | None = None, test_case: str | None = None) -> int:
    try:
        program = parse_definition(path.read_bytes())
    except InvalidDefinition as exc:
        err.write(f"{exc.code}: {exc.message}\n")
        return 2
    ids = RandomIds()
    clock = SystemClock() if real_time else ManualClock(time.time())
    local = LocalFunctions(ids, clock)
    for spec in functions:
        name, _, location = spec.partition("=")
        file, _, handler = location.partition(":")
        local.add_source(name, Path(file).read_text(), handler or "handler")
    handlers = local.handlers()
    if mock_config is not None:
        config = MockConfig.load(mock_config)
        machines = [path.stem] + list(config.machines)
        machine = next((m for m in machines if config.has_case(m, test_case or "")), None)
        if machine is None:
            err.write(f"headwater: no test case {test_case!r} in {mock_config}\n")
            return 2
        handlers = mocked(handlers, config, machine, test_case or "")
    runner = Runner(program, handlers, clock=clock, ids=ids, state_machine_name=path.stem)
    result = runner.run(execution_input, execution_type=execution_type)
    if show_history:
        for event in result.history:
            wire = event.to_wire()
            wire["timestamp"] = wire["timestamp"].isoformat()
            out.write(orjson.dumps(wire).decode() + "\n")
    if result.status == "SUCCEEDED":
        out.write(orjson.dumps(result.output, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    err.write(f"{result.status}: {result.error or ''}\n")
    if result.cause:
        err.write(f"{result.cause}\n")
    return 1
