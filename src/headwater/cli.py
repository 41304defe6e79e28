"""The ``headwater`` command line: ``serve``, ``sfn run`` / ``sfn validate``, ``logs``,
``s3 scrub``.

A thin layer of click commands over the settings, the gateway and the services' facades; it
holds no behaviour of its own, and it is the one place (with the benchmarks) that prints.
Flags win over ``HEADWATER_*`` variables, which win over defaults (``config.py``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from headwater import __version__
from headwater.config import LOOPBACK_KEY, LOOPBACK_SECRET, from_environment
from headwater.core.errors import ConfigError


@click.group()
@click.version_option(__version__, prog_name="headwater")
def main() -> None:
    """headwater: AWS serverless services on your own machine."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 4566).")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None,
    help="Where state is kept (default ./.headwater).",
)
@click.option("--log-level", default="info", show_default=True)
@click.option("--archive-time-scale", type=float, default=None,
              help="S3 restores take AWS's typical time times this (default 1; 0.001 for demos).")
def serve(host: str | None, port: int | None, data_dir: Path | None, log_level: str,
          archive_time_scale: float | None) -> None:
    """Run the headwater server."""
    from headwater.gateway.app import build_gateway
    from headwater.gateway.server import serve as run_server

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = from_environment(host=host, port=port, data_dir=data_dir,
                                archive_time_scale=archive_time_scale)
    try:
        gateway = build_gateway(settings)
    except ConfigError as exc:
        click.echo(f"headwater: {exc}", err=True)
        sys.exit(2)
    key, secret = (LOOPBACK_KEY, LOOPBACK_SECRET)
    if settings.credentials:
        key, secret = next(iter(settings.credentials.items()))
        secret = "<your configured secret>"
    click.echo(f"headwater {__version__} listening on {settings.endpoint}")
    click.echo(f"data in {settings.data_dir.resolve()}")
    click.echo("point your AWS tools at it:")
    click.echo(f"  export AWS_ENDPOINT_URL={settings.endpoint}")
    click.echo(f"  export AWS_ACCESS_KEY_ID={key}")
    click.echo(f"  export AWS_SECRET_ACCESS_KEY={secret}")
    click.echo(f"  export AWS_DEFAULT_REGION={settings.region}")
    # botocore prefixes the host with "sync-" for StartSyncExecution; "sync-127.0.0.1" does
    # not resolve, so tell SDKs to leave the host alone.
    click.echo("  export AWS_DISABLE_HOST_PREFIX_INJECTION=true")
    sys.stdout.flush()
    run_server(gateway)


# ----- headwater sfn: Step Functions state machines in this process, without a server --------

@main.group()
def sfn() -> None:
    """Run or validate a Step Functions state machine in-process (no server)."""


@sfn.command("run")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--input", "input_", default="{}", show_default=True,
              help="Execution input: JSON text, or @FILE.")
@click.option("--type", "execution_type", type=click.Choice(["STANDARD", "EXPRESS"]),
              default="STANDARD", show_default=True)
@click.option("--history", is_flag=True, help="Print the history events (JSON lines) first.")
@click.option("--real-time", is_flag=True,
              help="Wait states really wait (by default the clock jumps ahead).")
@click.option("--function", "functions", multiple=True, metavar="NAME=FILE.py[:HANDLER]",
              help="A Python Lambda function the workflow calls (repeatable).")
@click.option("--mock-config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Step Functions Local mock configuration (JSON).")
@click.option("--test-case", default=None, help="The mock configuration's test case to use.")
def sfn_run(definition: Path, input_: str, execution_type: str, history: bool, real_time: bool,
            functions: tuple[str, ...], mock_config: Path | None,
            test_case: str | None) -> None:
    """Run DEFINITION.json and print its output (or its error and cause).

    With --mock-config FILE --test-case NAME, the test case's mocked responses answer the
    states it names (Step Functions Local's format).
    """
    if (mock_config is None) != (test_case is None):
        click.echo("headwater: --mock-config and --test-case go together", err=True)
        sys.exit(2)
    from headwater.services.stepfunctions import local

    try:
        execution_input = local.read_input(input_)
    except (OSError, ValueError) as exc:
        click.echo(f"headwater: bad --input: {exc}", err=True)
        sys.exit(2)
    sys.exit(local.run(definition, execution_input, execution_type, history, real_time,
                       list(functions), sys.stdout, sys.stderr, mock_config, test_case))


@sfn.command("validate")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sfn_validate(definition: Path) -> None:
    """Print ValidateStateMachineDefinition's diagnostics; exit 1 when invalid."""
    from headwater.services.stepfunctions import local

    sys.exit(local.validate(definition, sys.stdout))


# ----- headwater logs: a Lambda function's invocation logs -----------------------------------

@main.command()
@click.argument("function")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None,
    help="The server's data directory (default ./.headwater or HEADWATER_DATA_DIR).",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new invocations as they run.")
@click.option("--tail", type=int, default=None, help="Start with only the last N invocations.")
def logs(function: str, data_dir: Path | None, follow: bool, tail: int | None) -> None:
    """Print the logs of FUNCTION (a name or an ARN): START, output, END and REPORT lines.

    Reads the data directory's database directly, so it works beside a running server.
    """
    from headwater.services.lambda_ import logs as lambda_logs

    settings = from_environment(data_dir=data_dir)
    try:
        conn = lambda_logs.open_readonly(settings.data_dir)
    except (FileNotFoundError, OSError) as exc:
        click.echo(f"headwater: {exc}", err=True)
        sys.exit(2)
    if follow:
        try:
            for text in lambda_logs.follow(conn, function, tail=tail):
                click.echo(text, nl=False)
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass
        return
    entries = lambda_logs.read(conn, function)
    if tail is not None:
        entries = entries[-tail:] if tail else []
    for _, text in entries:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()


# ----- headwater s3: maintenance of the object store ------------------------------------------

@main.group()
def s3() -> None:
    """S3 object store maintenance (works on the data directory, beside a running server)."""


@s3.command("scrub")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None,
    help="The server's data directory (default ./.headwater or HEADWATER_DATA_DIR).",
)
def s3_scrub(data_dir: Path | None) -> None:
    """Verify every stored object's bytes against their checksums; list corrupt ones, exit 1
    if any."""
    from headwater.core.clock import SystemClock
    from headwater.core.ids import RandomIds
    from headwater.services import ServiceEnv
    from headwater.services.s3 import open_s3
    from headwater.store import open_store

    settings = from_environment(data_dir=data_dir)
    database = settings.data_dir / "headwater.db"
    if not database.exists():
        click.echo(f"headwater: no data in {settings.data_dir}", err=True)
        sys.exit(2)
    store = open_store(database)
    try:
        problems = open_s3(ServiceEnv(settings, store, SystemClock(), RandomIds()), clean=False).scrub()
    finally:
        store.close()
    for line in problems:
        click.echo(line)
    click.echo(f"{len(problems)} corrupt" if problems else "all objects verified")
    sys.exit(1 if problems else 0)
