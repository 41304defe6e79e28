"""The ``headwater`` command line."""

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
def serve(host: str | None, port: int | None, data_dir: Path | None, log_level: str) -> None:
    """Run the headwater server."""
    from headwater.gateway.app import build_gateway
    from headwater.gateway.server import serve as run_server

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = from_environment(host=host, port=port, data_dir=data_dir)
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
def sfn_run(definition: Path, input_: str, execution_type: str, history: bool, real_time: bool,
            functions: tuple[str, ...]) -> None:
    """Run DEFINITION.json and print its output (or its error and cause).

    Mocked integrations (--mock-config FILE --test-case NAME) are planned.
    """
    from headwater.services.stepfunctions import local

    try:
        execution_input = local.read_input(input_)
    except (OSError, ValueError) as exc:
        click.echo(f"headwater: bad --input: {exc}", err=True)
        sys.exit(2)
    sys.exit(local.run(definition, execution_input, execution_type, history, real_time,
                       list(functions), sys.stdout, sys.stderr))


@sfn.command("validate")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sfn_validate(definition: Path) -> None:
    """Print ValidateStateMachineDefinition's diagnostics; exit 1 when invalid."""
    from headwater.services.stepfunctions import local

    sys.exit(local.validate(definition, sys.stdout))


if __name__ == "__main__":
    main()
