"""The data of a running execution: what comes in (inputs), what goes out (effects), and the
state the engine keeps between the two.

The engine (``engine``) is a deterministic function of the program, this state and one input;
it appends history events and returns effects. Nothing here performs I/O. A driver persists
the new history events *before* performing the effects, so a crash between the two re-runs an
effect (at-least-once, as AWS documents for Standard workflows) and never loses one; the state
is rebuilt by replaying the recorded inputs (``replay``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.services.stepfunctions.history import History

if TYPE_CHECKING:
    from headwater.services.stepfunctions.asl.program import Branch
    from headwater.services.stepfunctions.asl.states.base import State
    from headwater.services.stepfunctions.asl.states.task import Resource
    from headwater.services.stepfunctions.scope import Variables

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"


# ----- inputs ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Start:
    input: Any


@dataclass(frozen=True, slots=True)
class TaskStarted:
    task_id: int


@dataclass(frozen=True, slots=True)
class TaskSucceeded:
    task_id: int
    output: Any


@dataclass(frozen=True, slots=True)
class TaskFailed:
    task_id: int
    error: str | None
    cause: str | None


@dataclass(frozen=True, slots=True)
class TaskHeartbeat:
    task_id: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: int


@dataclass(frozen=True, slots=True)
class Stop:
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Redrive:
    """RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution goes on from the state
    that did not succeed."""


@dataclass(frozen=True, slots=True)
class MapRunEnded:
    """A distributed map's run is over: its output (the results, or the ResultWriter's
    summary), or the error that failed it (``aborted``: it was stopped from outside)."""

    task_id: int
    output: Any = None
    error: str | None = None
    cause: str | None = None
    aborted: bool = False


Input = (Start | TaskStarted | TaskSucceeded | TaskFailed | TaskHeartbeat | TimerFired | Stop
         | Redrive | MapRunEnded)


# ----- effects --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Call a task resource; report back with TaskStarted, then TaskSucceeded/TaskFailed."""

    task_id: int
    resource: Resource
    parameters: Any
    timeout_seconds: int
    heartbeat_seconds: int | None
    state_name: str
    credentials: Any = None
    task_token: str | None = None


@dataclass(frozen=True, slots=True)
class CancelTask:
    task_id: int


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Send TimerFired(timer_id) once the clock reaches ``fire_at`` (epoch seconds)."""

    timer_id: int
    fire_at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: int


@dataclass(frozen=True, slots=True)
class StartMapRun:
    """Run a distributed map's children as executions of their own (``distributed.maprun``);
    report back with ``MapRunEnded``. Everything the engine evaluated is in here, so the run
    needs nothing else from the parent's state except each item's ItemSelector
    (``Engine.map_item_inputs``)."""

    task_id: int
    map_run_arn: str
    state_name: str
    processor_location: str  # the ItemProcessor's JSON pointer in the definition
    execution_type: str
    items: list[Any] | None  # inline items; None when an ItemReader reads them
    reader: dict[str, Any] | None  # Resource, evaluated Parameters, ReaderConfig (MaxItems)
    batcher: dict[str, Any] | None  # MaxItemsPerBatch, MaxInputBytesPerBatch, BatchInput
    writer: dict[str, Any] | None  # Resource, evaluated Parameters, WriterConfig
    max_concurrency: int
    tolerated_percentage: float
    tolerated_count: int
    # 0 for a new run; n for the n-th redrive of the run ``map_run_arn`` names.
    redrive_count: int = 0


@dataclass(frozen=True, slots=True)
class AbortMapRun:
    task_id: int
    map_run_arn: str


Effect = InvokeTask | CancelTask | StartTimer | CancelTimer | StartMapRun | AbortMapRun


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Who the execution is: what the context object's Execution and StateMachine show."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str = "arn:aws:iam::000000000000:role/headwater-sfn"
    type: str = "STANDARD"  # or "EXPRESS"
    redrive_count: int = 0


# ----- the state between inputs ----------------------------------------------------------

class Frame:
    """One thread of control: the top-level run, a Parallel branch or a Map iteration."""

    __slots__ = (
        "branch",
        "children",
        "done",
        "effective",
        "entered_at",
        "entered_event",
        "failed_in_task",
        "heartbeat_timer",
        "history",
        "id",
        "input",
        "iteration_of",
        "kept",
        "kept_run",
        "last_event",
        "map_item",
        "parent",
        "redriven",
        "redriven_run",
        "retry_counts",
        "slot",
        "state",
        "task_id",
        "timer_id",
        "variables",
        "waiting",
    )

    def __init__(self, frame_id: int, branch: Branch, variables: Variables,
                 history: History, parent: Frame | None = None, slot: int = 0) -> None:
        self.id = frame_id
        self.parent = parent
        self.slot = slot  # index among the parent's children (branch or item index)
        self.branch = branch
        self.state: State = branch.start
        self.input: Any = None
        self.variables = variables
        self.history = history
        self.last_event = 0
        self.entered_event = 0
        self.entered_at = 0.0
        self.retry_counts: list[int] | None = None
        self.waiting: str | None = None  # None (runnable), "task", "timer", "retry", "children"
        self.task_id = 0
        self.timer_id = 0
        self.heartbeat_timer = 0
        self.effective: Any = None  # the effective input of a waiting Task/Map/Parallel
        self.children: Fanout | None = None
        self.done = False
        self.failed_in_task = False  # AWS records TaskStateAborted for it at teardown
        self.map_item: tuple[int, Any] | None = None
        self.iteration_of: str | None = None  # the Map state's name, for MapIteration events
        # The children of the last Map/Parallel this frame ran that failed or was aborted, by
        # state name: what a redrive keeps (the children that succeeded) and re-runs.
        self.kept: tuple[str, Fanout] | None = None
        # Set by a redrive for the state it goes on from; the Map/Parallel takes it once.
        self.redriven: Fanout | None = None
        # The same for a distributed Map: (state name, map run ARN, the run's redrive count)
        # of the run that failed or was aborted; a redrive hands (ARN, count) back.
        self.kept_run: tuple[str, str, int] | None = None
        self.redriven_run: tuple[str, int] | None = None


@dataclass(slots=True)
class Fanout:
    """The children of a running Parallel or Map state."""

    total: int
    inputs: list[Any] | None = None  # Map: the items still to start (by index)
    results: list[Any] = field(default_factory=list)
    running: dict[int, Frame] = field(default_factory=dict)
    next_index: int = 0
    finished: int = 0
    max_concurrency: int = 0
    succeeded: set[int] = field(default_factory=set)  # children that succeeded, by index


class ExecutionState:
    """Everything the engine needs to continue an execution."""

    def __init__(self, info: ExecutionInfo, record_history: bool = True) -> None:
        self.info = info
        self.status = RUNNING
        self.input: Any = None
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_time = 0.0
        self.stop_time: float | None = None
        self.history = History(record_history)
        self.frames: dict[int, Frame] = {}
        self.root: Frame | None = None
        self.tasks: dict[int, Frame] = {}
        self.invocations: dict[int, InvokeTask] = {}  # tasks in flight, to re-issue on resume
        self.timers: dict[int, tuple[float, int, str]] = {}  # id -> (fire_at, frame id, kind)
        # Distributed map runs in flight: task id -> (the Map's frame, what started it).
        self.map_runs: dict[int, tuple[Frame, StartMapRun]] = {}
        self.ready: deque[Frame] = deque()
        self.next_key = 1
        self.transitions = 0
        self.context_execution: dict[str, Any] = {}
        self.context_state_machine: dict[str, Any] = {}
        self.context_info: Any = None

    def key(self) -> int:
        value = self.next_key
        self.next_key = value + 1
        return value

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    def pending_tasks(self) -> list[int]:
        return sorted(self.tasks)

    def next_timer(self) -> tuple[float, int] | None:
        if not self.timers:
            return None
        timer_id, (fire_at, _, _) = min(self.timers.items(), key=lambda kv: (kv[1][0], kv[0]))
        return fire_at, timer_id
