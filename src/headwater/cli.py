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


if __name__ == "__main__":
    main()
