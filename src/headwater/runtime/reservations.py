"""Reserved concurrency: how many invocations of one function may run at once, all versions
and aliases together.

Lambda applies a function's reserved concurrency to the function as a whole: version 1, an
alias and ``$LATEST`` draw on the same slots.  The local executor keeps its worker pools per
version, so the reservation is counted here, above the pools, in invocations in flight rather
than workers: an idle worker of version 1 does not keep ``$LATEST`` from running, as an idle
execution environment does not on Lambda.  A synchronous caller over the limit is throttled;
a pacing caller (``wait=True``) queues, first come first served.

This is not the account-level limit (the service checks reservations against it) and not the
per-version process bound of unreserved functions (``LocalExecutor.concurrency_per_function``).

AWS page: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Reservation:
    limit: int
    running: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class Reservations:
    """The reserved-concurrency slots of every function, by unqualified function ARN."""

    def __init__(self) -> None:
        self._by_function: dict[str, _Reservation] = {}

    async def enter(self, function_arn: str, limit: int, *, wait: bool) -> bool:
        """Take a slot of the function's reservation of ``limit``; False means throttled
        (only with ``wait=False``).  Every True must be paired with one ``leave``."""
        reservation = self._by_function.get(function_arn)
        if reservation is None:
            reservation = self._by_function[function_arn] = _Reservation(limit)
        elif reservation.limit != limit:  # PutFunctionConcurrency changed it
            reservation.limit = limit
            _admit_waiting(reservation)
        if reservation.running < reservation.limit and not reservation.waiters:
            reservation.running += 1
            return True
        if not wait:
            return False
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        reservation.waiters.append(gate)
        try:
            await gate  # ``_admit_waiting`` counted the slot for us before it opened the gate
        except asyncio.CancelledError:
            if gate.done() and not gate.cancelled() and gate.exception() is None:
                self.leave(function_arn)  # admitted just as we were cancelled: give it back
            else:
                with contextlib.suppress(ValueError):
                    reservation.waiters.remove(gate)
            raise
        return True

    def leave(self, function_arn: str) -> None:
        reservation = self._by_function.get(function_arn)
        if reservation is None:  # ``close`` came first: nothing is waiting any more
            return
        reservation.running -= 1
        _admit_waiting(reservation)
        if reservation.running == 0 and not reservation.waiters:
            del self._by_function[function_arn]

    def close(self, error: BaseException) -> None:
        """Fail every queued caller with ``error`` (the executor is stopping)."""
        for reservation in self._by_function.values():
            for gate in reservation.waiters:
                if not gate.done():
                    gate.set_exception(error)
            reservation.waiters.clear()
        self._by_function.clear()


def _admit_waiting(reservation: _Reservation) -> None:
    while reservation.waiters and reservation.running < reservation.limit:
        gate = reservation.waiters.popleft()
        if not gate.done():
            reservation.running += 1
            gate.set_result(None)
