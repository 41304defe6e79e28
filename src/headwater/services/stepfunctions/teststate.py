"""TestState: run one state on its own and say what it did.

Implements https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
(and https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html) by
building a small state machine around the state and running it as an in-memory execution on
the driver, so a Task really calls its integration (or the ``mock`` answers for it):

    [Init: a Pass that assigns ``variables``] -> the state -> a Succeed stand-in for each state
    it can go to (Next, Default, the Choices' and Catchers' Next)

The state's ``Retry`` is left out: AWS does not retry in TestState but reports ``RETRIABLE``
when a retrier would have caught the error.  A Wait does not wait.  From the execution's
history come ``status`` (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR), ``output``, ``nextState``
and, at DEBUG/TRACE, ``inspectionData``
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_InspectionData.html):
``input``, ``afterInputPath``, ``afterParameters`` (``afterArguments`` for JSONata), ``result``,
``afterResultSelector``, ``afterResultPath`` and ``variables``.  The engine does not record
the InputPath and ResultSelector stages, so they are evaluated here again from the compiled
state, the state's input and its result (both pure: no effect runs twice).

TRACE adds the HTTP ``request``/``response`` of an HTTP Task; headwater has no HTTP Task, so
TRACE reports what DEBUG does.  ``revealSecrets`` only concerns what an EventBridge connection
adds to an HTTP Task's request; it is accepted and has nothing to reveal.  Not here:
``stateConfiguration``, ``errorDetails`` and the Map specifics (``afterItemsPath``, ...).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from headwater.services.stepfunctions import errors
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.asl.errors import StatesError, matches
from headwater.services.stepfunctions.asl.program import Program
from headwater.services.stepfunctions.asl.states.base import State
from headwater.services.stepfunctions.driver import Live
from headwater.services.stepfunctions.execution import ExecutionInfo
from headwater.services.stepfunctions.model import StepFunctions
from headwater.services.stepfunctions.runner import TaskFailure, TaskRequest
from headwater.services.stepfunctions.scope import ContextInfo, RunScope, Variables

_INIT = "HeadwaterTestStateInit"
_TESTED = "HeadwaterTestStateUnderTest"


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state["Next"]] if isinstance(state.get("Next"), str) else []
    if isinstance(state.get("Default"), str):
        found.append(state["Default"])
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            found.append(rule["Next"])
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            found.append(catcher["Next"])
    return found


def _machine(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(the machine to run, the state as given, its name)."""
    try:
        document = orjson.loads(params["definition"])
    except orjson.JSONDecodeError as exc:
        raise errors.validation(f"Invalid definition: {exc}") from None
    if not isinstance(document, dict):
        raise errors.validation("The definition must be a JSON object")
    name = params.get("stateName")
    language = None
    if name is not None or "States" in document:
        given = document.get("States") or {}
        name = str(name or document.get("StartAt"))
        if name not in given:
            raise errors.validation(f"State '{name}' is not in the definition")
        state, language = dict(given[name]), document.get("QueryLanguage")
    else:
        state, name = dict(document), _TESTED
    original = dict(state)
    state.pop("Retry", None)
    if state.get("Type") == "Wait":
        for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"):
            state.pop(key, None)
        state["Seconds"] = 0
    states: dict[str, Any] = {name: state}
    for target in _targets(state):
        states.setdefault(target, {"Type": "Succeed"})
    variables = _variables(params)
    start = name
    if variables:
        states[_INIT] = {"Type": "Pass", "QueryLanguage": "JSONPath", "Assign": variables,
                         "Next": name}
        start = _INIT
    machine: dict[str, Any] = {"StartAt": start, "States": states}
    if language:
        machine["QueryLanguage"] = language
    return machine, original, name


def _variables(params: dict[str, Any]) -> dict[str, Any]:
    try:
        variables = orjson.loads(params["variables"]) if params.get("variables") else {}
    except orjson.JSONDecodeError as exc:
        raise errors.validation(f"Invalid variables: {exc}") from None
    if not isinstance(variables, dict):
        raise errors.validation("The variables must be a JSON object")
    return variables


def _mocked(mock: dict[str, Any]) -> Any:
    def answer(request: TaskRequest) -> Any:
        failure = mock.get("errorOutput")
        if failure:
            raise TaskFailure(failure.get("error"), failure.get("cause"))
        try:
            return orjson.loads(mock.get("result") or "null")
        except orjson.JSONDecodeError as exc:
            raise errors.validation(f"The mocked result is not valid JSON: {exc}") from None

    return answer


async def test_state(sfn: StepFunctions, params: dict[str, Any]) -> dict[str, Any]:
    machine, state, name = _machine(params)
    program = parse_definition(orjson.dumps(machine))  # InvalidDefinition as for a machine
    input_text = params.get("input") or "{}"
    try:
        execution_input = orjson.loads(input_text)
    except orjson.JSONDecodeError as exc:
        raise errors.invalid_execution_input(str(exc)) from None
    base = f"arn:aws:states:{sfn.region}:{sfn.account}"
    run_id = sfn.ids.uuid()
    info = ExecutionInfo(f"{base}:express:TestState:{run_id}:{run_id}", run_id,
                         f"{base}:stateMachine:TestState", "TestState",
                         params.get("roleArn") or "", "EXPRESS")
    overrides = {name: _mocked(params["mock"])} if params.get("mock") else {}
    live = sfn.driver.start_execution(info, program, None, execution_input, input_text,
                                      overrides=overrides)
    if not live.state.finished:
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def end(_: Live) -> None:
            if not ended.done():
                ended.set_result(None)

        live.watchers.append(end)
        await ended
    level = params.get("inspectionLevel") or "INFO"
    out = _report(live, state, name, level)
    if level in ("DEBUG", "TRACE"):
        _stages(out["inspectionData"], live, program, name, _variables(params))
    return out


def _stages(inspection: dict[str, Any], live: Live, program: Program, name: str,
            given: dict[str, Any]) -> None:
    """Add afterInputPath, afterResultSelector and variables to what the history told."""
    compiled: State = program.states[name]
    variables = dict(given)
    entered = 0.0
    for event in live.history or []:
        details = event.details or {}
        if event.type.endswith("StateEntered") and details.get("name") == name:
            entered = event.timestamp
        elif event.type.endswith("StateExited") and details.get("name") == name:
            variables.update(details.get("assignedVariables") or {})
    if variables:
        inspection["variables"] = orjson.dumps(variables).decode()
    if compiled.jsonata:
        # AWS: the InputPath, ResultSelector and ResultPath stages are not populated for JSONata.
        inspection.pop("afterResultPath", None)
        return
    if "input" not in inspection:
        return
    st = live.state
    scope = RunScope(orjson.loads(inspection["input"]), Variables(values=dict(given)),
                     live.engine.runtime, ContextInfo(st.context_execution,
                                                      st.context_state_machine),
                     name, entered)
    try:
        inspection["afterInputPath"] = orjson.dumps(
            compiled.apply_input_path(scope, scope.raw)).decode()
        if "result" in inspection:
            result = orjson.loads(inspection["result"])
            if compiled.result_selector is not None:
                scope.input = result
                result = compiled.result_selector.evaluate(scope)
            inspection["afterResultSelector"] = orjson.dumps(result).decode()
    except StatesError:
        pass  # the run itself failed at that stage and says so in error/cause


def _report(live: Live, state: dict[str, Any], name: str, level: str) -> dict[str, Any]:
    events = live.history or []
    st = live.state
    out: dict[str, Any] = {}
    inspection: dict[str, Any] = {}
    caught = False
    exited = None
    for index, event in enumerate(events):
        details = event.details or {}
        if event.type.endswith("StateEntered") and details.get("name") == name:
            inspection["input"] = orjson.dumps(details.get("input")).decode()
        elif event.type in ("TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"):
            payload = details.get("parameters", details.get("input"))
            key = "afterArguments" if "Arguments" in state else "afterParameters"
            inspection[key] = orjson.dumps(payload).decode()
        elif event.type in ("TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"):
            inspection["result"] = orjson.dumps(details.get("output")).decode()
        elif event.type.endswith("Failed") and event.type != "ExecutionFailed":
            caught = True  # reset below when nothing caught it
        elif event.type.endswith("StateExited") and details.get("name") == name:
            exited = details.get("output")
            inspection["afterResultPath"] = orjson.dumps(exited).decode()
            following = [e for e in events[index + 1:] if e.type.endswith("StateEntered")]
            if following:
                out["nextState"] = (following[0].details or {}).get("name")
    if st.status == "SUCCEEDED":
        out["status"] = "CAUGHT_ERROR" if caught and out.get("nextState") else "SUCCEEDED"
        out["output"] = orjson.dumps(exited if exited is not None else st.output).decode()
    else:
        error = st.error or ""
        # AWS: TestState never retries; it says a retrier would have caught the error.
        retriable = any(isinstance(r, dict) and r.get("MaxAttempts", 3) != 0 and
                        matches(tuple(r.get("ErrorEquals") or ()), error)
                        for r in state.get("Retry") or [])
        out["status"] = "RETRIABLE" if retriable else "FAILED"
        if st.error is not None:
            out["error"] = st.error
        if st.cause is not None:
            out["cause"] = st.cause
    if level in ("DEBUG", "TRACE"):
        out["inspectionData"] = inspection
    return out
