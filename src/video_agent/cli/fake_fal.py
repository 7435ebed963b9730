"""``video-agent fake-fal``: run the fake fal server and print the environment that uses it."""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from video_agent.cli.app import app


@app.command("fake-fal")
def fake_fal(
    port: Annotated[int, typer.Option(help="HTTPS port on 127.0.0.1 (0: a free one).")] = 8443,
    proxy_port: Annotated[int, typer.Option(
        help="CONNECT proxy port for fal's fixed upload hosts (0: a free one, -1: none).")] = 0,
    cert_dir: Annotated[Path | None, typer.Option(
        help="Folder for the throwaway CA and server certificate (a temporary one if unset).")
    ] = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s",
        help="Fault or timing, name=value (repeatable): latency_s=5, queue_s=2, submit_429=2, "
             "stuck=true, gpu_error=true, video=off_spec|small|short|broken|truncated, "
             "fault_rate=0.2 (random faults), fault_kinds=submit_429|download_reset, ...")
    ] = None,
    endpoint: Annotated[str, typer.Option(
        help="Endpoint id the --scenario items apply to ('*': all).")] = "*",
) -> None:
    """Serve fal's queue protocol and storage uploads on 127.0.0.1 over HTTPS, for offline use.

    Export the printed variables in another shell, then run the agent with
    ``--primary fal:<endpoint id>``: the unmodified fal-client talks to this server.
    """
    try:
        from video_agent_dev.fakefal import FakeFalServer, Scenario, parse_assignments
    except ImportError as exc:
        typer.echo(f"fake-fal is a development tool and needs the 'dev' extra "
                   f"(pip install -e '.[dev]'): {exc}", err=True)
        raise typer.Exit(2) from None

    try:
        chosen = Scenario(**parse_assignments(scenario or []))  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scenario") from exc
    if cert_dir is not None:
        cert_dir.mkdir(parents=True, exist_ok=True)
    server = FakeFalServer(port=port, proxy_port=None if proxy_port < 0 else proxy_port,
                           cert_dir=cert_dir)
    server.start()
    server.call(lambda: server.fake.set_scenario(endpoint, chosen))
    typer.echo("# fake fal server ready; export these in the shell that runs video-agent:")
    for name, value in server.env().items():
        typer.echo(f"export {name}={shlex.quote(value)}")
    typer.echo(f"# counts: curl --cacert {shlex.quote(str(server.ca_file))} "
               f"{server.url}/_fake/counts")
    typer.echo("# Ctrl-C stops the server.", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
