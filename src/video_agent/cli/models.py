"""``video-agent models``: the providers a plan can be sent to and what each accepts."""

from __future__ import annotations

from typing import Annotated

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
    table = Table(title="fal.ai image-to-video endpoints (use as --primary / --fallback)")
    for column in ("provider", "durations (s)", "resolutions", "fps", "camera", "price", ""):
        table.add_column(column)
    for row in rows:
        lo, hi = row["duration_range"]
        durations = (", ".join(f"{d:g}" for d in row["durations"]) if row["durations"]
                     else f"{lo:g}-{hi:.1f}")
        price = " + ".join(p for p in (
            f"${row['usd_per_video']:.2f}/video" if row["usd_per_video"] else "",
            f"${row['usd_per_second']:.3f}/s" if row["usd_per_second"] else "") if p) or "free"
        table.add_row(row["provider"], durations,
                      ", ".join(row["resolutions"]), ", ".join(map(str, row["fps"])),
                      ", ".join(row["camera_controls"]) or "prompt only",
                      price, row["role"])
    Console().print(table)
    Console().print("Embedded renderer: local, local:draft (any 4-10 s, 16:9 >= 1024x576, 24 fps, "
                    "every camera move, free).")
