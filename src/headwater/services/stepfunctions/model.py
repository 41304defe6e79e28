"""The Step Functions domain: state machines, versions, aliases, executions and activities.

Plain synchronous code over the store and the driver: it checks names and ARNs the way the API
does, resolves what an ARN names (a state machine, a version ``:N``, an alias ``:name``, a
Step Functions Local test case ``#Case``), compiles definitions once per text, and hands
executions to the driver.  The wire mapping is ``adapter``'s.

AWS pages: https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
(and the other actions), concepts-state-machine-version.html, concepts-state-machine-alias.html.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.services.stepfunctions import errors
from headwater.services.stepfunctions.asl import Program, parse_definition
from headwater.services.stepfunctions.distributed.maprun import child_program
from headwater.services.stepfunctions.driver import Driver, Live
from headwater.services.stepfunctions.execution import ExecutionInfo
from headwater.services.stepfunctions.mocks import invalid_test_case
from headwater.services.stepfunctions.store import (
    AliasRow,
    ExecutionRow,
    MachineRow,
    SfnStore,
    VersionRow,
    sha_of,
)

MAX_INPUT_BYTES = 256 * 1024
MAX_TAGS = 50
DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}
# AWS: names are 1-80 characters without whitespace, brackets, wildcards, special characters
# (" # % \ ^ | ~ ` $ & , ; : /) or control characters.
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def check_name(name: str) -> None:
    if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise errors.invalid_name(name)


@dataclass(frozen=True, slots=True)
class Target:
    """What a state machine ARN given to the API names."""

    machine: MachineRow
    version: VersionRow | None = None
    alias: AliasRow | None = None
    test_case: str | None = None


class StepFunctions:
    def __init__(self, store: SfnStore, driver: Driver, clock: Clock, ids: IdFactory,
                 region: str, account: str) -> None:
        self.store = store
        self.driver = driver
        self.clock = clock
        self.ids = ids
        self.region = region
        self.account = account
        self._programs: dict[str, Program] = {}

    # -- ARNs ---------------------------------------------------------------------------

    def machine_arn(self, name: str, region: str | None = None) -> str:
        return f"arn:aws:states:{region or self.region}:{self.account}:stateMachine:{name}"

    def program(self, sha: str) -> Program:
        """The program of a definition; ``SHA#LOCATION`` is the ItemProcessor a distributed
        map's children run (their rows name it so a restart can resume them)."""
        found = self._programs.get(sha)
        if found is None:
            base, _, location = sha.partition("#")
            if location:
                found = child_program(self.program(base), location)
            else:
                found = parse_definition(self.store.definition(sha))
            self._programs[sha] = found
        return found

    def resolve(self, arn: str, *, allow_test_case: bool = False) -> Target:
        """A state machine, version or alias ARN; ``InvalidArn`` / ``StateMachineDoesNotExist``."""
        base, _, test_case = arn.partition("#")
        parts = base.split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or not parts[6]:
            raise errors.invalid_arn(arn)
        if parts[5] != "stateMachine":
            raise errors.wrong_resource_type(parts[5])
        if len(parts) > 8 or (test_case and not allow_test_case):
            raise errors.invalid_arn(arn)
        machine_arn = ":".join(parts[:7])
        machine = self.store.machine(machine_arn)
        if machine is None:
            raise errors.state_machine_does_not_exist(base)
        if test_case:
            mocks = self.driver.integrations.mocks
            if mocks is None or not mocks.has_case(machine.name, test_case):
                raise invalid_test_case(arn)
        if len(parts) == 7:
            return Target(machine, test_case=test_case or None)
        qualifier = parts[7]
        if qualifier.isdigit():
            version = self.store.version(base)
            if version is None:
                raise errors.state_machine_does_not_exist(base)
            return Target(machine, version, test_case=test_case or None)
        alias = self.store.alias(base)
        if alias is None:
            raise errors.resource_not_found(base)
        version = self.store.version(self._route(alias))
        if version is None:
            raise errors.state_machine_does_not_exist(base)
        return Target(machine, version, alias, test_case or None)

    def _route(self, alias: AliasRow) -> str:
        """Pick a version by the alias's routing weights (from the injected id factory)."""
        routes = alias.routing
        if len(routes) == 1:
            return str(routes[0]["stateMachineVersionArn"])
        draw = int(self.ids.uuid().replace("-", "")[:8], 16) % 100
        total = 0
        for route in routes:
            total += int(route["weight"])
            if draw < total:
                return str(route["stateMachineVersionArn"])
        return str(routes[-1]["stateMachineVersionArn"])

    # -- state machines -----------------------------------------------------------------

    def create_machine(self, params: dict[str, Any]) -> tuple[MachineRow, VersionRow | None]:
        name = params["name"]
        check_name(name)
        definition = params["definition"]
        parse_definition(definition)  # InvalidDefinition with AWS's diagnostics
        kind = params.get("type") or "STANDARD"
        arn = self.machine_arn(name)
        logging_config = params.get("loggingConfiguration") or dict(DEFAULT_LOGGING)
        tracing = params.get("tracingConfiguration") or dict(DEFAULT_TRACING)
        existing = self.store.machine(arn)
        if existing is not None:
            # AWS: an identical create is idempotent; anything different is a conflict.
            if (self.store.definition(existing.sha) == definition and existing.type == kind
                    and existing.role_arn == params["roleArn"]):
                return existing, None
            raise errors.state_machine_already_exists(arn)
        tags = tags_from(params.get("tags"))
        if len(tags) > MAX_TAGS:
            raise errors.too_many_tags(arn)
        now = self.clock.now()
        with self.store.transaction():
            sha = self.store.put_definition(definition)
            machine = MachineRow(arn, name, kind, sha, params["roleArn"], now, now,
                                 self.ids.uuid(), logging_config, tracing,
                                 params.get("encryptionConfiguration"), tags, 1)
            self.store.put_machine(machine)
            version = None
            if params.get("publish"):
                version = self._publish(machine, params.get("versionDescription"))
        return machine, version

    def machine(self, arn: str) -> MachineRow:
        target = self.resolve(arn)
        if target.version is not None or target.alias is not None:
            raise errors.invalid_arn(arn)
        return target.machine

    def update_machine(self, params: dict[str, Any]) -> tuple[MachineRow, VersionRow | None]:
        machine = self.machine(params["stateMachineArn"])
        keys = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration",
                "encryptionConfiguration")
        if not any(params.get(k) is not None for k in keys) and not params.get("publish"):
            raise errors.missing_required_parameter()
        changed = False
        if params.get("definition") is not None:
            parse_definition(params["definition"])
            sha = sha_of(params["definition"])
            changed = changed or sha != machine.sha
            machine.sha = sha
        if params.get("roleArn") is not None:
            changed = changed or params["roleArn"] != machine.role_arn
            machine.role_arn = params["roleArn"]
        if params.get("loggingConfiguration") is not None:
            machine.logging = params["loggingConfiguration"]
        if params.get("tracingConfiguration") is not None:
            machine.tracing = params["tracingConfiguration"]
        if params.get("encryptionConfiguration") is not None:
            machine.encryption = params["encryptionConfiguration"]
        with self.store.transaction():
            if params.get("definition") is not None:
                self.store.put_definition(params["definition"])
            if changed:
                machine.revision_id = self.ids.uuid()
            machine.updated = self.clock.now()
            self.store.put_machine(machine)
            version = None
            if params.get("publish"):
                version = self._publish(machine, params.get("versionDescription"))
        return machine, version

    def delete_machine(self, arn: str) -> None:
        parts = arn.split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[5] != "stateMachine":
            raise errors.invalid_arn(arn)
        if len(parts) > 7:
            raise errors.invalid_arn(arn)
        self.store.delete_machine(arn)  # AWS: deleting what is not there succeeds

    # -- versions -----------------------------------------------------------------------

    def publish(self, arn: str, description: str | None, revision_id: str | None) -> VersionRow:
        machine = self.machine(arn)
        if revision_id is not None and revision_id != machine.revision_id:
            raise errors.conflict(f"Failed to publish the State Machine version for revision "
                                  f"{revision_id}. The current State Machine revision is "
                                  f"{machine.revision_id}.")
        with self.store.transaction():
            return self._publish(machine, description)

    def _publish(self, machine: MachineRow, description: str | None) -> VersionRow:
        latest = self.store.versions(machine.arn)
        if latest and latest[0].revision_id == machine.revision_id:
            return latest[0]  # AWS: publishing an unchanged revision returns that version
        number = machine.next_version
        version = VersionRow(f"{machine.arn}:{number}", machine.arn, number, machine.sha,
                             machine.role_arn, machine.revision_id, description,
                             self.clock.now())
        self.store.put_version(version)
        machine.next_version = number + 1
        self.store.put_machine(machine)
        return version

    def delete_version(self, arn: str) -> None:
        parts = arn.split(":")
        if len(parts) != 8 or parts[5] != "stateMachine" or not parts[7].isdigit():
            raise errors.invalid_arn(arn)
        for alias in self.store.aliases(":".join(parts[:7])):
            if any(r["stateMachineVersionArn"] == arn for r in alias.routing):
                raise errors.conflict(f"Version to be deleted must not be referenced by an "
                                      f"alias. Current list of aliases referencing this "
                                      f"version: [{alias.name}]")
        self.store.delete_version(arn)

    # -- aliases ------------------------------------------------------------------------

    def _routing(self, routing: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        if not routing or len(routing) > 2:
            raise errors.validation("Routing configuration must contain one or two versions")
        machines = set()
        for route in routing:
            version = self.store.version(route["stateMachineVersionArn"])
            if version is None:
                raise errors.resource_not_found(route["stateMachineVersionArn"])
            machines.add(version.machine_arn)
        if len(machines) != 1:
            raise errors.validation("All versions in the routing configuration must belong to "
                                    "the same state machine")
        if sum(int(r["weight"]) for r in routing) != 100:
            raise errors.validation("Sum of routing configuration weights must equal 100.")
        return machines.pop(), [dict(r) for r in routing]

    def create_alias(self, name: str, description: str | None,
                     routing: list[dict[str, Any]]) -> AliasRow:
        check_name(name)
        if name.isdigit():
            raise errors.invalid_name(name)
        machine_arn, routes = self._routing(routing)
        arn = f"{machine_arn}:{name}"
        existing = self.store.alias(arn)
        if existing is not None:
            if existing.routing == routes and existing.description == description:
                return existing
            raise errors.conflict("Failed to create alias because an alias with the same name "
                                  "and a different routing configuration already exists.")
        now = self.clock.now()
        alias = AliasRow(arn, machine_arn, name, description, routes, now, now)
        self.store.put_alias(alias)
        return alias

    def alias(self, arn: str) -> AliasRow:
        parts = arn.split(":")
        if len(parts) != 8 or parts[5] != "stateMachine" or parts[7].isdigit():
            raise errors.invalid_arn(arn)
        found = self.store.alias(arn)
        if found is None:
            raise errors.resource_not_found(arn)
        return found

    def update_alias(self, arn: str, description: str | None,
                     routing: list[dict[str, Any]] | None) -> AliasRow:
        alias = self.alias(arn)
        if routing is not None:
            machine_arn, alias.routing = self._routing(routing)
            if machine_arn != alias.machine_arn:
                raise errors.validation("The routing configuration must use versions of the "
                                        "alias's state machine")
        if description is not None:
            alias.description = description
        alias.updated = self.clock.now()
        self.store.put_alias(alias)
        return alias

    # -- executions ---------------------------------------------------------------------

    def start(self, params: dict[str, Any], *, sync: bool = False) -> Live:
        target = self.resolve(params["stateMachineArn"], allow_test_case=True)
        machine = target.machine
        express = machine.type == "EXPRESS"
        if sync and not express:
            raise errors.type_not_supported(
                "This operation is not supported by this type of state machine")
        name = params.get("name") or self.ids.uuid()
        check_name(name)
        input_text = params.get("input") or "{}"
        if len(input_text.encode()) > MAX_INPUT_BYTES:
            raise errors.validation(f"1 validation error detected: Value at 'input' failed to "
                                    f"satisfy constraint: Member must have length less than "
                                    f"or equal to {MAX_INPUT_BYTES}")
        try:
            execution_input = orjson.loads(input_text)
        except orjson.JSONDecodeError as exc:
            raise errors.invalid_execution_input(str(exc)) from None
        sha = target.version.sha if target.version else machine.sha
        role = target.version.role_arn if target.version else machine.role_arn
        base = f"arn:aws:states:{self.region}:{self.account}"
        if express:
            arn = f"{base}:express:{machine.name}:{name}:{self.ids.uuid()}"
        else:
            arn = f"{base}:execution:{machine.name}:{name}"
            existing = self.store.execution(arn)
            if existing is not None:
                # AWS: StartExecution is idempotent for a running execution with the same
                # name and input; otherwise the name is taken for 90 days.
                live = self.driver.live.get(arn)
                if live is not None and existing.input == input_text:
                    return live
                raise errors.execution_already_exists(arn)
        machine_ref = target.version.arn if target.version else machine.arn
        info = ExecutionInfo(arn, name, machine_ref, machine.name, role,
                             "EXPRESS" if express else "STANDARD")
        row = None
        if not express:
            row = ExecutionRow(0, arn, machine.arn, target.version.arn if target.version else None,
                               target.alias.arn if target.alias else None, name, sha, role,
                               "RUNNING", input_text, None, None, None, 0.0, None, 0, None,
                               params.get("traceHeader"), target.test_case)
        return self.driver.start_execution(info, self.program(sha), row, execution_input,
                                           input_text, test_case=target.test_case,
                                           trace_header=params.get("traceHeader"))

    def execution(self, arn: str) -> ExecutionRow:
        check_execution_arn(arn)
        found = self.store.execution(arn)
        if found is None:
            raise errors.execution_does_not_exist(arn)
        return found

    # -- activities ---------------------------------------------------------------------

    def activity_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"

    def activity(self, arn: str) -> tuple[str, str, float, dict[str, str]]:
        parts = arn.split(":")
        if len(parts) != 7 or parts[0] != "arn" or parts[2] != "states":
            raise errors.invalid_arn(arn)
        if parts[5] != "activity":
            raise errors.wrong_resource_type(parts[5])
        found = self.store.activity(arn)
        if found is None:
            raise errors.activity_does_not_exist(arn)
        return found

    # -- tags ---------------------------------------------------------------------------

    def tags_of(self, arn: str) -> dict[str, str]:
        machine = self.store.machine(arn)
        if machine is not None:
            return machine.tags
        activity = self.store.activity(arn)
        if activity is not None:
            return activity[3]
        if not arn.startswith("arn:"):
            raise errors.invalid_arn(arn)
        raise errors.resource_not_found(arn)

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        if len(tags) > MAX_TAGS:
            raise errors.too_many_tags(arn)
        self.store.set_tags(arn, tags)


def check_execution_arn(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states":
        raise errors.invalid_arn(arn)
    if parts[5] not in ("execution", "express"):
        raise errors.wrong_resource_type(parts[5])
    if len(parts) < 8:
        raise errors.invalid_arn(arn)


def tags_from(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """A request's tag list as a map.  The model leaves a tag's key optional, a map cannot:
    a tag without one is refused as the validator words a missing member (AWS's answer is
    not recorded)."""
    for number, tag in enumerate(tags or [], start=1):
        if "key" not in tag:
            raise errors.validation(f"1 validation error detected: Value null at 'tags.{number}"
                                    ".key' failed to satisfy constraint: Member must not be null")
    return {t["key"]: t.get("value", "") for t in tags or []}
