"""A function version's configuration: the values, their checks and their wire form.

``Config`` is what CreateFunction / UpdateFunctionConfiguration set; ``Code`` is what the
package gave (hash, size, where it lies); ``Version`` ties both to a version number and a
revision id.  ``$LATEST`` is a ``Version`` that updates replace; published versions never
change.  ``to_wire`` renders AWS's ``FunctionConfiguration``.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html (reserved names, 4 KB).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.runtime.environment import RESERVED
from headwater.services.lambda_ import errors, names

# The Python runtimes headwater accepts; all run on the interpreter that runs headwater.
PYTHON_RUNTIMES = frozenset(f"python3.{minor}" for minor in range(9, 15))
DEPRECATED_RUNTIMES = frozenset({"python2.7", "python3.6", "python3.7", "python3.8"})
ENV_LIMIT = 4096
# Folder mode: CreateFunction with Code.S3Bucket set to this name and S3Key set to a folder
# on this machine (LocalStack's convention, so existing scripts carry over).
HOT_RELOAD_BUCKET = "hot-reload"


@dataclass(frozen=True, slots=True)
class Config:
    runtime: str
    role: str
    handler: str
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    dead_letter_target: str | None = None
    tracing_mode: str = "PassThrough"
    architectures: tuple[str, ...] = ("x86_64",)
    ephemeral_storage: int = 512
    log_format: str = "Text"
    log_group: str | None = None

    def updated(self, params: Mapping[str, Any]) -> Config:
        """This config with an UpdateFunctionConfiguration request's members applied."""
        return dataclasses.replace(self, **_members(params))

    def to_json(self) -> bytes:
        return orjson.dumps(dataclasses.asdict(self))

    @staticmethod
    def from_json(data: bytes | str) -> Config:
        doc = orjson.loads(data)
        doc["architectures"] = tuple(doc["architectures"])
        return Config(**doc)


@dataclass(frozen=True, slots=True)
class Code:
    sha256: str
    size: int
    code_id: str  # folder under the function's code root; "" for folder mode
    folder: str | None = None  # folder mode: the user's folder, watched for edits

    def to_json(self) -> bytes:
        return orjson.dumps(dataclasses.asdict(self))

    @staticmethod
    def from_json(data: bytes | str) -> Code:
        return Code(**orjson.loads(data))


@dataclass(frozen=True, slots=True)
class Version:
    version: str  # "$LATEST" or "1", "2", ...
    config: Config
    code: Code
    revision_id: str
    last_modified: float
    description: str = ""  # PublishVersion's own description (versions only)


def config_from_create(params: Mapping[str, Any]) -> Config:
    """CreateFunction's configuration members, checked."""
    if params.get("PackageType", "Zip") != "Zip":
        raise errors.not_supported(
            "container image functions (PackageType Image)", "package the function as a zip"
        )
    if not params.get("Runtime") or not params.get("Handler"):
        # AWS quirk: Runtime and Handler are optional in the model (images need neither) and
        # the service checks them for zip packages.
        missing = "Runtime" if not params.get("Runtime") else "Handler"
        raise errors.invalid_parameter(
            f"{missing} is required for functions with a ZIP package type"
        )
    base = Config(runtime=params["Runtime"], role=params["Role"], handler=params["Handler"])
    return base.updated(params)


def _members(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "Runtime" in params:
        out["runtime"] = check_runtime(params["Runtime"])
    for wire, name in (("Role", "role"), ("Handler", "handler"), ("Description", "description")):
        if wire in params:
            out[name] = params[wire]
    if "Timeout" in params:
        out["timeout"] = int(params["Timeout"])
    if "MemorySize" in params:
        out["memory_size"] = int(params["MemorySize"])
    if "Environment" in params:
        out["environment"] = check_environment(params["Environment"].get("Variables") or {})
    if "DeadLetterConfig" in params:
        target = params["DeadLetterConfig"].get("TargetArn") or None
        if target is not None and not target.startswith("arn:aws:sqs:"):
            raise errors.not_supported(
                f"dead-letter targets other than SQS queues ({target})", "use an SQS queue"
            )
        out["dead_letter_target"] = target
    if "TracingConfig" in params:
        out["tracing_mode"] = params["TracingConfig"].get("Mode") or "PassThrough"
    if "Architectures" in params:
        out["architectures"] = tuple(params["Architectures"])
    if "EphemeralStorage" in params:
        out["ephemeral_storage"] = int(params["EphemeralStorage"]["Size"])
    if "LoggingConfig" in params:
        logging = params["LoggingConfig"]
        out["log_format"] = logging.get("LogFormat", "Text")
        out["log_group"] = logging.get("LogGroup")
    if params.get("Layers"):
        raise errors.not_supported("layers", "vendor the packages into the function's zip")
    if params.get("VpcConfig", {}).get("SubnetIds"):
        raise errors.not_supported("VPC configuration", "remove VpcConfig")
    return out


def check_runtime(runtime: str) -> str:
    if runtime in DEPRECATED_RUNTIMES:
        raise errors.invalid_parameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating "
            "AWS Lambda functions. We recommend you use a supported runtime while creating or "
            "updating functions."
        )
    if runtime not in PYTHON_RUNTIMES:
        raise errors.not_supported(
            f"the runtime {runtime}",
            "headwater runs Python functions (python3.9 to python3.14) on its own interpreter",
        )
    return runtime


def check_environment(variables: Mapping[str, str]) -> dict[str, str]:
    reserved = sorted(name for name in variables if name in RESERVED)
    if reserved:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    text = orjson.dumps(dict(variables)).decode()
    if len(text.encode()) > ENV_LIMIT:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            f"variables you have provided exceeded the 4KB limit. String measured: {text}"
        )
    return dict(variables)


def to_wire(
    name: str,
    arn: str,
    version: Version,
    *,
    state: str = "Active",
    update_status: str = "Successful",
    qualifier: str | None = None,
) -> dict[str, Any]:
    """AWS's ``FunctionConfiguration`` for one version.

    ``state`` / ``update_status`` let the write that just happened report the transition AWS
    reports (Pending on create and publish, InProgress on update); reads always see Active /
    Successful, because headwater has the code unpacked before it answers.  ``qualifier`` is
    the one the caller named: AWS qualifies ``FunctionArn`` with it (``:$LATEST`` included);
    published versions always carry their number.
    """
    config = version.config
    if qualifier is None and version.version != names.LATEST:
        qualifier = version.version
    qualified = names.qualified_arn(arn, qualifier)
    out: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": qualified,
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": version.code.size,
        "Description": version.description or config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": names.timestamp(version.last_modified),
        "CodeSha256": version.code.sha256,
        "Version": version.version,
        "TracingConfig": {"Mode": config.tracing_mode},
        "RevisionId": version.revision_id,
        "State": state,
        "PackageType": "Zip",
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": config.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {
            "LogFormat": config.log_format,
            "LogGroup": config.log_group or f"/aws/lambda/{name}",
        },
    }
    if config.environment:
        out["Environment"] = {"Variables": dict(config.environment)}
    if config.dead_letter_target:
        out["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    if state == "Pending":
        out["StateReason"] = "The function is being created."
        out["StateReasonCode"] = "Creating"
    elif version.version == names.LATEST:
        # AWS quirk: published versions never report a LastUpdateStatus.
        out["LastUpdateStatus"] = update_status
        if update_status == "InProgress":
            out["LastUpdateStatusReason"] = "The function is being created."
            out["LastUpdateStatusReasonCode"] = "Creating"
    return out
