"""The errors of the Amazon States Language: the runtime failures a state machine can raise, and
the definition errors that reject a state machine before it runs.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
(the predefined ``States.*`` error names and which wildcard catches what) and the
``InvalidDefinition`` error of CreateStateMachine / ValidateStateMachineDefinition.

    HeadwaterError
     +-- ServiceError
     |    +-- InvalidDefinition     the definition is not valid ASL (carries the diagnostics list)
     +-- StatesError                a failure *inside* an execution: an error name and a cause,
                                    matched by Retry and Catch, or failing the execution

``StatesError`` is not an API error: it never leaves the engine as an exception; it becomes a
``TaskFailed``/``ExecutionFailed`` event and, at the end, the execution's ``error`` and ``cause``.
"""

from __future__ import annotations

from dataclasses import dataclass

from headwater.core.errors import HeadwaterError, ServiceError

# The predefined error names, spelled as AWS spells them.
ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"

# Payloads (state input and output, task results, execution input) are capped at 256 KiB.
MAX_PAYLOAD_BYTES = 256 * 1024

# AWS quirk: States.ALL and States.TaskFailed never catch these two: they end the execution.
_TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(HeadwaterError):
    """A failure inside an execution: ``error`` (the name Retry/Catch match) and ``cause``.

    ``evaluation`` marks failures that AWS records with an ``EvaluationFailed`` history event
    (JSONata evaluation errors) rather than failing the state silently.
    """

    def __init__(self, error: str, cause: str | None = None, *, evaluation: bool = False) -> None:
        super().__init__(f"{error}: {cause}" if cause is not None else error)
        self.error = error
        self.cause = cause
        self.evaluation = evaluation

    def __repr__(self) -> str:
        return f"StatesError({self.error!r}, {self.cause!r})"


def matches(error_equals: tuple[str, ...], error: str) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` list catches ``error``."""
    if error in error_equals:
        return True
    if error in _TERMINAL:
        return False
    if ALL in error_equals:
        return True
    # AWS quirk: States.TaskFailed is a wildcard for every error except States.Timeout.
    return TASK_FAILED in error_equals and error != TIMEOUT


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of ValidateStateMachineDefinition (the ``diagnostics`` list of its reply)."""

    severity: str  # "ERROR" or "WARNING"
    code: str  # e.g. "SCHEMA_VALIDATION_FAILED", "INVALID_JSON_DESCRIPTION"
    message: str
    location: str | None = None  # e.g. "/States/Pass/Next"

    def to_wire(self) -> dict[str, str]:
        out = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        return out


class InvalidDefinition(ServiceError):
    """The definition is not a valid state machine; the API answers ``InvalidDefinition``.

    The message is AWS's: ``Invalid State Machine Definition: 'CODE: message at /location'``,
    with several findings joined by ``, ``.
    """

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        parts = []
        for d in diagnostics:
            if d.severity != "ERROR":
                continue
            where = f" at {d.location}" if d.location else ""
            parts.append(f"{d.code}: {d.message}{where}")
        super().__init__(
            "InvalidDefinition", f"Invalid State Machine Definition: '{', '.join(parts)}'"
        )
