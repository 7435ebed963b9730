"""``video-agent models``: the providers a plan can be sent to and what each accepts."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from video_agent.cli.app import app


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered fal.ai endpoints (and the embedded renderer) with their limits."""
    import json

    from video_agent.adapters.providers.fal.endpoints import (
        DEFAULT_FALLBACK,
        DEFAULT_PRIMARY,
        all_endpoints,
    )

    rows = []
    for endpoint in all_endpoints().values():
        caps = endpoint.capabilities
        role = ("default primary" if endpoint.id == DEFAULT_PRIMARY else
                "default fallback" if endpoint.id == DEFAULT_FALLBACK else "")
        rows.append({
            "provider": f"fal:{endpoint.id}", "title": endpoint.title, "role": role,
            "durations": caps.durations,
            "duration_range": [caps.min_duration, caps.max_duration],
            "resolutions": caps.resolutions, "fps": caps.fps,
            "negative_prompt": caps.negative_prompt,
            "camera_controls": list(caps.camera_controls),
            "usd_per_second": endpoint.price.per_second,
            "usd_per_video": endpoint.price.per_video,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    title = "fal.ai image-to-video endpoints (use as --primary / --fallback)"
    columns = ("provider", "seconds", "sizes", "fps", "camera", "price")
    cells = [_cells(row) for row in rows]
    if console.width >= 120:
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in cells:
            table.add_row(*row)
        console.print(table)
    else:
        # narrow terminals: one block per endpoint, its id on a line of its own that is never
        # cut or broken (the terminal may wrap it; a copy still takes it whole)
        console.print(f"[bold]{title}[/]")
        for row in cells:
            console.print(f"\n[bold cyan]{row[0].splitlines()[0]}[/]"
                          + (f" {row[0].splitlines()[1]}" if "\n" in row[0] else ""),
                          soft_wrap=True, highlight=False)
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, style="dim")
            grid.add_column(overflow="fold")
            for name, value in zip(columns[1:], row[1:], strict=True):
                grid.add_row(name, value)
            console.print(grid)
    Console().print("Embedded renderer: local, local:draft (any 4-10 s, 16:9 >= 1024x576, 24 fps, "
                    "every camera move, free).")


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    lo, hi = row["duration_range"]
    durations = (", ".join(f"{d:g}" for d in row["durations"]) if row["durations"]
                 else f"{lo:g}-{hi:.1f}")
    price = " + ".join(p for p in (
        f"${row['usd_per_video']:.2f}/video" if row["usd_per_video"] else "",
        f"${row['usd_per_second']:.3f}/s" if row["usd_per_second"] else "") if p) or "free"
    return (row["provider"] + (f"\n({row['role']})" if row["role"] else ""), durations,
            ", ".join(row["resolutions"]), ", ".join(map(str, row["fps"])),
            ", ".join(row["camera_controls"]) or "prompt only", price)
