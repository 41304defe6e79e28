"""The environment variables a function's worker process starts with.

Lambda defines a set of variables in every execution environment and reserves most of them
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
the user's variables are applied first and the reserved ones win over them.  The credentials
and AWS_ENDPOINT_URL point back at headwater, so a handler's boto3 calls reach headwater's
own services without any change to the handler.  Nothing else of the server's environment is
passed on (a server's own secrets, such as HEADWATER_CREDENTIALS, stay in the server), apart
from what finding programs and libraries on this machine needs.

Shared by every executor: the Ray executor builds its workers' environment the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import headwater
from headwater.runtime.executor import FunctionSpec, log_group_name

# Passed through from the server so that subprocesses and native libraries work as they do in
# the developer's shell; Lambda sets its own values for these.
PASSTHROUGH = ("PATH", "LD_LIBRARY_PATH", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")

# Lambda's reserved names: CreateFunction rejects them in Environment.Variables.
RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def runtime_dir() -> Path:
    """The folder that holds the ``headwater`` package: the worker imports its host from it."""
    return Path(headwater.__file__).resolve().parent.parent


def worker_environment(
    spec: FunctionSpec, log_stream: str, server_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    source = os.environ if server_env is None else server_env
    env = {name: source[name] for name in PASSTHROUGH if name in source}
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            # Lambda's runtime folder is on PYTHONPATH; here it is where headwater lives, so a
            # worker started from a source checkout still finds its host module.
            "PYTHONPATH": str(runtime_dir()),
        }
    )
    if spec.endpoint_url:
        env["AWS_ENDPOINT_URL"] = spec.endpoint_url
    # The service rejects reserved names at CreateFunction; dropping them here keeps a spec
    # built by other callers from overriding what the runtime relies on.
    env.update({k: v for k, v in spec.environment.items() if k not in RESERVED})
    code_dir = str(spec.code_dir)
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name(spec.function_name),
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_ACCESS_KEY_ID": spec.access_key_id,
            "AWS_SECRET_ACCESS_KEY": spec.secret_access_key,
            "LAMBDA_TASK_ROOT": code_dir,
            "LAMBDA_RUNTIME_DIR": str(runtime_dir()),
        }
    )
    return env
