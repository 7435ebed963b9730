"""``video-agent explain``: print each scene's analysis, plan and reasoning trace."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from video_agent.cli.app import app
from video_agent.context import ALLOW_PRIVATE_URLS_ENV
from video_agent.inputs import DEFAULT_MAX_SCENES

if TYPE_CHECKING:
    from video_agent.models import (
        NarrationTiming,
        ProviderCapabilities,
        ReasoningTrace,
        SceneAnalysis,
        SceneContext,
        VideoParams,
    )


@app.command("explain")
def explain(
    story_file: Annotated[Path, typer.Argument(help="Story JSON file.", exists=True,
                                               dir_okay=False)],
    scene: Annotated[list[int] | None, typer.Option(
        "--scene", "-s", help="Scene number to explain (repeatable); all scenes when omitted.")
    ] = None,
    provider: Annotated[str | None, typer.Option(
        help="Also fit the plan to this provider ('local', 'fal:<endpoint id>') and show "
             "the prompt it would get.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")
                       ] = False,
    images_root: Annotated[list[Path] | None, typer.Option(
        help="Folder besides the story's own that local stills may be in (repeatable).")
    ] = None,
    allow_private_urls: Annotated[bool, typer.Option(
        "--allow-private-urls", envvar=ALLOW_PRIVATE_URLS_ENV,
        help="Accept stills on loopback and private addresses (development only).")] = False,
    max_scenes: Annotated[int, typer.Option(
        min=1, help="Refuse a story with more scenes than this.")] = DEFAULT_MAX_SCENES,
) -> None:
    """Show how each scene is read and planned, and why: no video is made.

    Each still's reference gets the checks a run makes before fetching that need no network
    (scheme, address spellings, folder); nothing is read, resolved or downloaded.
    """
    from video_agent.adapters.images import ImageError, ImageSource
    from video_agent.cli.run import checked_image_roots
    from video_agent.models import SceneContext
    from video_agent.story import StoryFileError, load_story

    console = Console()
    try:
        story = load_story(story_file, max_scenes=max_scenes)
    except StoryFileError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    wanted = {str(n) for n in scene or []}
    missing = wanted - set(story.scenes)
    if missing:
        console.print(f"[red]scene: {', '.join(sorted(missing, key=int))} not in "
                      f"{story_file}[/red]")
        raise typer.Exit(2)
    roots = checked_image_roots(images_root, console)
    source = ImageSource(Path(), base_dir=story_file.resolve().parent,
                         roots=[Path(r) for r in roots], allow_private_urls=allow_private_urls)
    caps = _capabilities(provider, console) if provider else None
    failed = False
    results: list[dict[str, Any]] = []
    for key in sorted(story.scenes, key=int):
        if wanted and key not in wanted:
            continue
        raw = story.scenes[key]
        if not isinstance(raw, SceneContext):
            failed = True
            _report_invalid(console, key, raw, as_json, results)
            continue
        try:
            source.check(raw.image_ref, field=raw.image_field)
        except ImageError as exc:
            failed = True
            _report_error(console, key, str(exc), as_json, results)
            continue
        result = explain_scene(raw, story.narration.get(key), caps)
        if as_json:
            results.append(result.as_dict())
        else:
            console.print(result.render())
    if as_json:
        console.print_json(json.dumps(results, default=str))
    if failed:
        raise typer.Exit(1)


def _report_invalid(console: Console, key: str, raw: Any, as_json: bool,
                    results: list[dict[str, Any]]) -> None:
    from pydantic import ValidationError

    from video_agent.models import SceneContext

    try:
        SceneContext.model_validate(raw)
        message = "invalid scene"
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'scene'}: "
                            f"{str(e['msg']).removeprefix('Value error, ')}"
                            for e in exc.errors())
    _report_error(console, key, message, as_json, results)


def _report_error(console: Console, key: str, message: str, as_json: bool,
                  results: list[dict[str, Any]]) -> None:
    if as_json:
        results.append({"scene": key, "error": message})
    else:
        console.print(Panel(Text(message), title=f"scene {key}", border_style="red"))


def _capabilities(spec: str, console: Console) -> ProviderCapabilities:
    from video_agent.adapters.providers.registry import build_provider
    from video_agent.context import VideoAgentContext

    try:
        return build_provider(spec, VideoAgentContext()).capabilities
    except Exception as exc:  # an unknown spec or a missing key: say so and stop
        console.print(f"[red]provider: {exc}[/red]")
        raise typer.Exit(2) from exc


class SceneExplanation:
    """One scene's analysis, plan, trace and (optionally) provider fitting, ready to print."""

    def __init__(self, scene: SceneContext, analysis: SceneAnalysis, params: VideoParams,
                 trace: ReasoningTrace, elapsed_ms: float, narration: NarrationTiming | None,
                 fitted: tuple[VideoParams, list[Any], str] | None) -> None:
        self.scene, self.analysis, self.params, self.trace = scene, analysis, params, trace
        self.elapsed_ms, self.narration, self.fitted = elapsed_ms, narration, fitted

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scene": self.scene.key,
            "reasoning_steps": self.analysis.model_dump(include={
                "motion_analysis", "technical_requirements", "generation_strategy"}),
            "cues": [c.model_dump() for c in self.analysis.cues],
            "scene_elements": self.analysis.scene_elements,
            "video_params": self.params.model_dump(),
            "trace": self.trace.model_dump(),
            "planning_ms": round(self.elapsed_ms, 2),
        }
        if self.fitted:
            params, conflicts, prompt = self.fitted
            out["fitted"] = {"video_params": params.model_dump(),
                             "conflicts": [c.model_dump() for c in conflicts], "prompt": prompt}
        return out

    def render(self) -> Panel:
        analysis, motion, gen = self.analysis, self.params.motion, self.params.generation
        steps = Table.grid(padding=(0, 2))
        steps.add_column(style="bold cyan")
        steps.add_column()
        ma, tr, gs = (analysis.motion_analysis, analysis.technical_requirements,
                      analysis.generation_strategy)
        for label, value in (
            ("scene type", ma.scene_type),
            ("movement", ", ".join(ma.movement_requirements)),
            ("key elements", ", ".join(ma.key_elements)),
            ("timing", ma.timing_considerations),
            ("quality needs", tr.quality_needs),
            ("focus areas", ", ".join(tr.focus_areas) or "-"),
            ("lighting", tr.lighting_dynamics),
            ("primary approach", gs.primary_approach),
            ("fallback", gs.fallback_options),
            ("style", ", ".join(analysis.style_preferences) or "-"),
            ("narration", f"{self.narration.duration:g} s" if self.narration else "-"),
        ):
            steps.add_row(label, value)
        cues = Table("source", "cue", "move", "pace", "length", title="camera cues",
                     title_justify="left", expand=True)
        for cue in analysis.cues:
            move: str = cue.motion or "-"
            if cue.direction:
                move += f" {cue.direction}"
            cues.add_row(cue.source, cue.phrase, move, cue.speed or "-",
                         f"{cue.duration:g} s" if cue.duration else "-")
        plan = Text.assemble(
            ("plan  ", "bold"),
            f"{motion.speed} {motion.type}{' ' + motion.direction if motion.direction else ''}, "
            f"{motion.duration:g} s, focus {', '.join(motion.focus_points) or '-'}; "
            f"guidance {gen.guidance_scale:g}, {gen.num_inference_steps} steps, "
            f"motion scale {gen.motion_scale:g}, {gen.aspect_ratio}; "
            f"negative \"{gen.negative_prompt}\"")
        decisions = Table("field", "value", "source", "reason", title="reasoning trace",
                          title_justify="left", expand=True)
        for d in self.trace.decisions:
            decisions.add_row(d.field, _short(d.value), d.source, d.reason)
        parts: list[Any] = [steps, cues, plan, decisions]
        conflicts = self.trace.conflicts + (self.fitted[1] if self.fitted else [])
        if conflicts:
            table = Table("field", "asked", "resolved", "source", "reason", title="conflicts",
                          title_justify="left", expand=True, border_style="yellow")
            for c in conflicts:
                table.add_row(c.field, _short(c.requested), _short(c.resolved), c.source,
                              c.reason)
            parts.append(table)
        if self.trace.flags:
            parts.append(Text("flags: " + ", ".join(self.trace.flags), style="bold yellow"))
        if self.fitted:
            parts.append(Text.assemble(("prompt  ", "bold"), self.fitted[2]))
        parts.append(Text(f"planned in {self.elapsed_ms:.2f} ms", style="dim"))
        return Panel(Group(*parts), title=f"scene {self.scene.key}", title_align="left")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def explain_scene(scene: SceneContext, narration: NarrationTiming | None = None,
                  caps: ProviderCapabilities | None = None) -> SceneExplanation:
    """Analyse and plan one scene with the rule planner, timing the two steps."""
    from video_agent.reasoning import (
        analyze_scene,
        build_prompt,
        fit_to_capabilities,
        plan_video,
    )

    start = time.perf_counter()
    analysis = analyze_scene(scene)
    params, trace = asyncio.run(plan_video(scene, analysis, narration=narration))
    elapsed_ms = (time.perf_counter() - start) * 1000
    fitted = None
    if caps is not None:
        fit, conflicts = fit_to_capabilities(params, caps)
        fitted = (fit, conflicts, build_prompt(fit, analysis, caps, scene))
    return SceneExplanation(scene, analysis, params, trace, elapsed_ms, narration, fitted)
