"""``video-agent assess``: run the quality gate on any clip."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from video_agent.cli.app import app
from video_agent.cli.render import parse_size
from video_agent.values import CLIP_SECONDS

if TYPE_CHECKING:
    from video_agent.models import QualityCheck, VideoParams


def _params(clip: Path, image: Path | None, duration: float | None) -> VideoParams:
    """A plan for a clip that came without one: its own length, clamped to the spec."""
    from video_agent.models import MotionSpec, SceneSpec, VideoParams
    from video_agent.quality import QualityError, probe

    if duration is None:
        try:
            duration = probe(clip).duration
        except QualityError:
            duration = 6.0
    duration = CLIP_SECONDS.clamp(duration)
    return VideoParams(
        scene=SceneSpec(content=clip.stem, number=1, image_url=str(image or "")),
        motion=MotionSpec(type="pan", duration=duration),
    )


@app.command("assess")
def assess(
    clip: Annotated[Path, typer.Argument(help="The clip to judge (any container PyAV reads).")],
    image: Annotated[Path | None, typer.Option(
        "--image", "-i", help="Source still: enables the fidelity check.")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", "-d", help="Planned duration in seconds (default: the clip's own).")] = None,
    size: Annotated[str, typer.Option("--size", help="Target size of a stored clip.")] = "1024x576",
    work_dir: Annotated[Path | None, typer.Option(
        "--work-dir", help="Where a repaired copy is written (default: a new temp folder).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Probe, measure and judge CLIP; exit 0 for pass or repaired, 1 for fail."""
    from video_agent.quality import QualitySettings, assess_clip

    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise typer.BadParameter("a number of seconds above 0", param_hint="--duration")
    target = parse_size(size)
    work = work_dir or Path(tempfile.mkdtemp(prefix="video-agent-assess-"))
    report = assess_clip(clip, image, _params(clip, image, duration), work_dir=work,
                         settings=QualitySettings(target_size=target), target_size=target)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console = Console()
        colour = {"pass": "green", "repaired": "yellow", "fail": "red"}[report.verdict]
        console.print(f"[bold {colour}]{report.verdict.upper()}[/] {clip} "
                      f"({report.elapsed_s:.2f} s)")
        table = Table(title="probe", show_header=False)
        for key, value in (report.original_probe or report.probe).model_dump().items():
            table.add_row(key, str(value))
        console.print(table)
        if report.checks:
            console.print(_checks_table(report.checks))
        elif report.metrics:
            table = Table(title="metrics", show_header=False)
            for key, value in report.metrics.items():
                table.add_row(key, f"{value:g}")
            console.print(table)
        for reason in report.reasons:
            console.print(f"[red]- {reason}[/]")
        for step in report.repairs:
            console.print(f"[yellow]* {step}[/]")
        if report.verdict == "repaired":
            console.print(f"repaired clip: {report.path}")
    raise typer.Exit(0 if report.passed else 1)


_MARKS = {"passed": "[green]ok[/]", "repaired": "[yellow]repaired[/]",
          "flagged": "[yellow]flagged[/]", "failed": "[red]FAIL[/]"}


def _checks_table(checks: list[QualityCheck]) -> Table:
    """Each check as a row: outcome, property and metric, measured value, passing condition."""
    table = Table(title="checks")
    for column in ("", "property: metric", "value", "passes at"):
        table.add_column(column)
    for c in checks:
        value = "" if c.value is None else f"{c.value:g} {c.unit}".strip()
        table.add_row(_MARKS[c.status], f"{c.property}: {c.name}", value, c.expected)
    return table
