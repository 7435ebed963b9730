"""``video-agent render``: one camera move over one still, no graph around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from video_agent.cli.app import app
from video_agent.motion_names import Easing, MotionType, Speed
from video_agent.values import FieldValueError, Resolution

console = Console(stderr=True)


def _choice(value: str, options: tuple[str, ...], option: str) -> str:
    if value not in options:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(options)}",
                                 param_hint=option)
    return value


def parse_size(value: str) -> tuple[int, int]:
    try:
        size = Resolution.parse(value, "--size")
    except FieldValueError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--size") from exc
    return size.width, size.height


@app.command("render")
def render(
    image: Annotated[Path, typer.Argument(help="The still (any format Pillow reads).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output MP4.")] = Path("clip.mp4"),
    motion: Annotated[str, typer.Option(
        help=f"Camera move: {', '.join(get_args(MotionType))}.")] = "push_in",
    speed: Annotated[str, typer.Option(help="slow, medium or fast.")] = "slow",
    duration: Annotated[float, typer.Option(help="Seconds, 4-10.")] = 6.0,
    direction: Annotated[str | None, typer.Option(
        help="pan: left_to_right|right_to_left; tilt, crane: up|down; truck: left|right; "
             "orbit: clockwise|counterclockwise.")] = None,
    focus: Annotated[list[str] | None, typer.Option(
        "--focus", help="Focus element to frame (repeatable): face, menu_book, horizon ...")
    ] = None,
    motion_scale: Annotated[float, typer.Option(min=0.0, max=1.0,
                                                help="How much of the move, 0-1.")] = 0.8,
    easing: Annotated[str, typer.Option(
        help=f"{', '.join(get_args(Easing))}.")] = "ease_in_out",
    size: Annotated[str, typer.Option(help="Output size, 16:9, at least 1024x576.")] = "1024x576",
    preset: Annotated[str, typer.Option(help="Renderer preset: standard or draft.")] = "standard",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Render one camera move over IMAGE into an H.264 MP4 (24 fps, 2-5 Mbps, no audio)."""
    from pydantic import ValidationError

    from video_agent.adapters.render import PRESETS, RenderError, render_clip
    from video_agent.models import MotionSpec

    _choice(motion, get_args(MotionType), "--motion")
    _choice(speed, get_args(Speed), "--speed")
    _choice(easing, get_args(Easing), "--easing")
    _choice(preset, tuple(PRESETS), "--preset")
    try:
        spec = MotionSpec(type=motion, speed=speed, direction=direction,  # type: ignore[arg-type]
                          duration=duration, focus_points=focus or [],
                          easing=easing)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(first["msg"], param_hint=f"--{first['loc'][0]}") from exc

    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("rendering", total=1.0)
        try:
            report = render_clip(image, out, spec, motion_scale=motion_scale,
                                 size=parse_size(size), preset=preset,
                                 progress=lambda f, m: bar.update(task, completed=f,
                                                                  description=m))
        except (RenderError, ValueError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc

    if as_json:
        typer.echo(json.dumps({"path": str(report.path), "duration": report.duration,
                               "fps": report.fps, "size": list(report.size),
                               "elapsed_s": round(report.elapsed_s, 3), **report.details(),
                               "settings": report.settings}, indent=2))
        return
    table = Table(show_header=False, box=None)
    table.add_row("clip", str(report.path))
    table.add_row("frames", f"{report.frames} at {report.fps} fps ({report.duration:g} s)")
    table.add_row("size", f"{report.size[0]}x{report.size[1]}")
    table.add_row("bitrate", f"{report.bitrate / 1e6:.2f} Mbps")
    table.add_row("render", f"{report.elapsed_s:.2f} s")
    traj = report.settings["trajectory"]
    table.add_row("move", f"{traj['motion']} {traj['direction'] or ''} zoom {traj['zoom']}x "
                          f"travel {traj['travel_px']} px".replace("  ", " "))
    for point in report.focus:
        table.add_row("focus", f"{point.name}: ({point.x:.2f}, {point.y:.2f}) by {point.method}")
    for conflict in report.conflicts:
        table.add_row("[yellow]conflict[/]", f"{conflict.field}: {conflict.reason}")
    Console().print(table)
