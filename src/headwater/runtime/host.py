"""The worker-side function host: one process that imports a Python handler once and runs it.

Started by ``runtime/local.py`` as ``python -m headwater.runtime.host FD [AS_LIMIT]`` with the
function's environment, its code folder as the working directory, fds 1 and 2 on a log file
the server also holds, and FD one end of a socket pair (``runtime/channel.py``).  It imports
the handler, reports readiness, then serves one invocation at a time until the socket closes.

It behaves as AWS's Python runtime interface client (``awslambdaric``, the bootstrap of the
managed python3.x runtimes) does, because that is what users' handlers and their error
documents are written against:

- handler names ``module.function`` (module path with ``/`` or ``.``), and the
  ``Runtime.MalformedHandlerName`` / ``ImportModuleError`` / ``UserCodeSyntaxError`` /
  ``HandlerNotFound`` / ``BuiltInModuleConflict`` init errors with their messages;
- the context object (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html);
- results serialized as ``json.dumps`` does, with its default separators, Decimal as a number,
  bytes passed through, and ``Runtime.MarshalError`` for anything else
  (https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html);
- exceptions as ``{errorMessage, errorType, requestId, stackTrace}`` and the ``[ERROR]`` log
  entry with no-break-space indentation
  (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html);
- the root logger handler's ``[LEVEL]\\t<time>\\t<request id>\\t<message>`` format and
  unbuffered stdout/stderr (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html).

Known differences: ``json`` stands in for ``simplejson`` (namedtuples become arrays, not
objects); the advanced JSON log format (``AWS_LAMBDA_LOG_FORMAT=JSON``) is not implemented.

Only the standard library is imported before user code, so a worker starts fast and the
handler's ``sys.modules`` holds nothing of headwater beyond this module and the channel.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import logging
import math
import os
import re
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

from headwater.runtime.channel import BlockingChannel, ChannelClosed

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

ERROR_LOG_INDENT = "\u00a0"  # AWS quirk: traceback indentation is logged as NO-BREAK SPACE
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)
# What one invocation may hand back as logs; beyond it the oldest output is dropped (the
# service keeps the tail, which is what LogType=Tail returns).
LOG_LIMIT = 4 * 1024 * 1024

_request_id = ""  # read by the logging filter, as awslambdaric's _GLOBAL_AWS_REQUEST_ID


class Fault(Exception):
    """An error the runtime itself reports (as awslambdaric's FaultException)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def load_handler(name: str) -> Callable[..., Any]:
    try:
        modname, fname = name.rsplit(".", 1)
    except ValueError as e:
        raise Fault(MALFORMED_HANDLER_NAME, f"Bad handler '{name}': {e}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                BUILT_IN_MODULE_CONFLICT,
                f"Cannot use built-in module {modname} as a handler module",
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault(IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise Fault(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {e}", trace
        ) from None
    try:
        return getattr(module, fname)  # type: ignore[no-any-return]
    except AttributeError:
        raise Fault(HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'") from None


def make_error(
    message: str, error_type: str, trace: list[str] | None, request_id: str
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def error_from_exception(exc: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the host's own frames, as the bootstrap drops bootstrap.py: users see their code.
    for i, frame in enumerate(frames):
        if frame.filename != __file__:
            frames = traceback.StackSummary.from_list(frames[i:])
            break
    # AWS quirk: the function's code lives in /var/task there, so its traces name that folder,
    # and the runtime prints no column markers (^^^^); callers compare traces with AWS's.
    root = os.environ.get("LAMBDA_TASK_ROOT", "")
    shown = traceback.StackSummary.from_list(
        [
            traceback.FrameSummary(_aws_path(f.filename, root), f.lineno, f.name, line=f.line)
            for f in frames
        ]
    )
    return make_error(str(exc), type(exc).__name__, traceback.format_list(shown), request_id)


def _aws_path(filename: str, root: str) -> str:
    if root and filename.startswith(root.rstrip(os.sep) + os.sep):
        return "/var/task/" + filename[len(root.rstrip(os.sep)) + 1 :]
    return filename


def error_log_lines(error: dict[str, Any]) -> str:
    """The ``[ERROR] Type: message`` entry followed by the traceback, as Lambda logs it."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        if element == "":
            lines.append("")
            continue
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines) + "\n"


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, doc: dict[str, Any] | None) -> None:
        doc = doc or {}
        self.cognito_identity_id = doc.get("cognitoIdentityId")
        self.cognito_identity_pool_id = doc.get("cognitoIdentityPoolId")


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.app_package_name = doc.get("app_package_name")
        self.app_title = doc.get("app_title")
        self.app_version_code = doc.get("app_version_code")
        self.app_version_name = doc.get("app_version_name")
        self.installation_id = doc.get("installation_id")


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, doc: dict[str, Any]) -> None:
        self.custom = doc.get("custom")
        self.env = doc.get("env")
        client = doc.get("client")
        self.client = Client(client) if isinstance(client, dict) else client


def _parse_json_header(text: str | None, name: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except Exception as e:  # noqa: BLE001 - the runtime reports any exception as the function's
        raise Fault(CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {name} JSON: {e}") from None


class LambdaContext:
    """The ``context`` argument of a handler."""

    def __init__(
        self,
        request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        # AWS quirk: memory_limit_in_mb is the environment string ("128"), not an int.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        cc = _parse_json_header(client_context, "Client Context")
        self.client_context = ClientContext(cc) if isinstance(cc, dict) else None
        self.identity = CognitoIdentity(_parse_json_header(cognito_identity, "Cognito Identity"))
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


# A Decimal is written as its exact digits; json has no raw-number hook, so it is first
# written as a marker string and the markers are replaced afterwards.  Control characters are
# always \u-escaped by json, so the marker cannot be confused with a user's string.
_DECIMAL_MARK = re.compile(r'"\\u0000hwdec(\d+)\\u0000"')


class Marshaller:
    def __init__(self, ensure_ascii: bool) -> None:
        self._ensure_ascii = ensure_ascii

    def decode(self, payload: bytes) -> Any:
        try:
            return json.loads(payload)
        except Exception as e:  # noqa: BLE001 - the runtime reports any exception as the function's
            raise Fault(UNMARSHAL_ERROR, f"Unable to unmarshal input: {e}") from None

    def encode(self, result: Any) -> tuple[bytes, str]:
        if isinstance(result, bytes):
            return result, "application/unknown"
        decimals: list[str] = []

        def default(obj: Any) -> Any:
            if isinstance(obj, decimal.Decimal):
                if obj.is_nan():
                    return math.nan
                decimals.append(str(obj))
                return f"\x00hwdec{len(decimals) - 1}\x00"
            raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")

        try:
            text = json.dumps(result, ensure_ascii=self._ensure_ascii, default=default)
        except Exception as e:  # noqa: BLE001 - the runtime reports any exception as the function's
            raise Fault(MARSHAL_ERROR, f"Unable to marshal response: {e}") from None
        if decimals:
            text = _DECIMAL_MARK.sub(lambda m: decimals[int(m.group(1))], text)
        return text.encode("utf-8"), "application/json"


class _Unbuffered:
    """Flush after every write, as the runtime does, so prints and logs keep their order."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        n = self.stream.write(text)
        self.stream.flush()
        return n

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        record.tenant_id = None
        return True


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


def setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging.getLevelNamesMapping():
        logging.getLogger().setLevel(level)


class LogCapture:
    """Hands over what the function wrote to fds 1 and 2 since the last call.

    Both fds point at one O_APPEND file the server created; reading it and truncating it after
    each invocation cuts the output per invocation without any extra process or thread, and
    catches output from C extensions and child processes as well as ``print``.
    """

    def __init__(self) -> None:
        self._fd = os.dup(1)  # our own handle, so a handler that closes fd 1 does not blind us

    def drain(self) -> bytes:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a handler may have swapped in odd streams
                stream.flush()
        size = os.fstat(self._fd).st_size
        if not size:
            return b""
        if size > LOG_LIMIT:
            data = b"[headwater: earlier output dropped]\n" + os.pread(
                self._fd, LOG_LIMIT, size - LOG_LIMIT
            )
        else:
            data = os.pread(self._fd, size, 0)
        os.ftruncate(self._fd, 0)
        return data


class PeakMemory:
    """The process's peak resident memory in MB, for REPORT's "Max Memory Used".

    VmHWM from /proc, not ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, so a worker
    forked from a large server would report the server's size.  Reading /proc/self/status
    costs ~15 us, so it is re-read only after the process took enough page faults since the
    last read to have grown (``getrusage`` costs ~1 us); below that the peak cannot have moved
    by more than a megabyte.
    """

    REFRESH_FAULTS = 256  # pages

    def __init__(self) -> None:
        import resource

        self._rusage = resource.getrusage
        self._self = resource.RUSAGE_SELF
        try:
            self._fd: int | None = os.open("/proc/self/status", os.O_RDONLY)
        except OSError:
            self._fd = None
        self._faults = -self.REFRESH_FAULTS - 1
        self._peak = 1

    def mb(self) -> int:
        usage = self._rusage(self._self)
        faults = usage.ru_minflt + usage.ru_majflt
        if faults - self._faults > self.REFRESH_FAULTS:
            self._faults = faults
            self._peak = self._read(usage.ru_maxrss)
        return self._peak

    def _read(self, maxrss: int) -> int:
        if self._fd is not None:
            data = os.pread(self._fd, 8192, 0)
            at = data.find(b"VmHWM:")
            if at >= 0:
                kb = int(data[at + 6 : data.index(b"kB", at)])
                return max(1, math.ceil(kb / 1024))
        # Without /proc (macOS): ru_maxrss, in bytes there.
        return max(1, math.ceil(maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)))


class Host:
    def __init__(
        self, channel: BlockingChannel, handler: Callable[..., Any], logs: LogCapture
    ) -> None:
        self.channel = channel
        self.handler = handler
        self.logs = logs
        self.memory = PeakMemory()
        self.marshaller = Marshaller(
            # AWS quirk: only the python3.12 runtime writes non-ASCII characters unescaped.
            ensure_ascii=os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
        )

    def serve(self) -> None:
        while True:
            try:
                meta_bytes, payload, _ = self.channel.recv()
            except ChannelClosed:
                return
            meta = json.loads(meta_bytes)
            reply, body, retire = self.invoke(meta, payload)
            self.channel.send(reply, body, self.logs.drain())
            if retire:
                return

    def invoke(self, meta: dict[str, Any], payload: bytes) -> tuple[bytes, bytes, bool]:
        global _request_id
        request_id: str = meta["id"]
        _request_id = request_id
        trace = meta.get("trace")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        elif "_X_AMZN_TRACE_ID" in os.environ:
            del os.environ["_X_AMZN_TRACE_ID"]
        # Wall time on purpose: this is the worker process, whose handler reads the same real
        # clock, and the server kills it on a real timer; no injected clock reaches here.
        deadline_ms = int(time.time() * 1000) + int(meta["timeout_ms"])
        error: dict[str, Any] | None = None
        retire = False
        content_type = "application/json"
        started = time.perf_counter()
        try:
            context = LambdaContext(
                request_id, meta["arn"], deadline_ms, meta.get("cc"), meta.get("ci")
            )
            event = self.marshaller.decode(payload)
            body, content_type = self.marshaller.encode(self.handler(event, context))
        except Fault as e:
            error = make_error(e.message, e.error_type, e.trace, request_id)
        except Exception as e:  # noqa: BLE001 - the runtime reports any exception as the function's
            error = error_from_exception(e, request_id)
            # After a MemoryError the interpreter may be half broken: finish this invocation,
            # then let the server start a fresh worker.
            retire = isinstance(e, MemoryError)
        duration_ms = (time.perf_counter() - started) * 1000
        if error is not None:
            sys.stdout.write(error_log_lines(error))
            body = json.dumps(error).encode("utf-8")
        # Written by hand: this small fixed object is on every invocation's path.
        reply = (
            f'{{"ok": {"true" if error is None else "false"}, "ms": {duration_ms!r}, '
            f'"mem": {self.memory.mb()}, "retire": {"true" if retire else "false"}'
        )
        if content_type != "application/json":
            reply += f', "ct": {json.dumps(content_type)}'
        return (reply + "}").encode(), body, retire


def main(argv: list[str]) -> int:
    channel_fd = int(argv[0])
    if len(argv) > 1:
        _limit_address_space(int(argv[1]))
    # The socket stays ours: a subprocess the handler starts must not keep it open.
    os.set_inheritable(channel_fd, False)
    channel = BlockingChannel(socket.socket(fileno=channel_fd))
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root in sys.path:
        sys.path.remove(task_root)
    sys.path.insert(0, task_root)
    setup_logging()
    capture = LogCapture()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as e:  # noqa: BLE001 - the runtime reports any exception as the function's
        if isinstance(e, Fault):
            error = make_error(e.message, e.error_type, e.trace, "")
        else:
            error = error_from_exception(e, "")
        # AWS quirk: init errors carry an empty requestId; the invocation had not begun.
        logging.getLogger().warning(UNHANDLED_WARNING)  # on the root logger, as Lambda's
        sys.stdout.write(error_log_lines(error))
        channel.send(b'{"ok": false}', json.dumps(error).encode("utf-8"), capture.drain())
        return 1
    channel.send(b'{"ok": true}', b"", capture.drain())
    try:
        Host(channel, handler, capture).serve()
    except (ChannelClosed, BrokenPipeError, ConnectionResetError):
        pass
    return 0


def _limit_address_space(limit: int) -> None:
    """A backstop against a handler allocating far past its memory size in one step.

    The server's resident-memory monitor enforces MemorySize itself; this only makes a huge
    single allocation fail with MemoryError inside the worker instead of exhausting the host.
    """
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
