"""Planner time per scene: analysis + rule plan (+ fitting and prompt) against a baseline.

The baseline is what a planner without reasoning costs: building the seed's default
``video_params`` for the scene.  Medians over repeated runs; run with
``.venv/bin/python bench/reasoning.py [STORY.json] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from video_agent.models import ProviderCapabilities, SceneContext, VideoParams
from video_agent.reasoning import (
    analyze_scene,
    build_prompt,
    fit_to_capabilities,
    plan_fallback,
    plan_rules,
)
from video_agent.reasoning.planner import scene_spec
from video_agent.story import load_story

EXAMPLE = Path(__file__).parents[1] / "examples" / "stories" / "morning_cafe.json"
CAPS = ProviderCapabilities(durations=[5.0, 10.0], camera_controls=["pan"])


def median_us(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def full(scene: SceneContext) -> None:
    analysis = analyze_scene(scene)
    params, trace = plan_rules(scene, analysis)
    plan_fallback(params, analysis, trace)
    fitted, _ = fit_to_capabilities(params, CAPS)
    build_prompt(fitted, analysis, CAPS, scene)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("story", nargs="?", default=str(EXAMPLE))
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    story = load_story(args.story)
    scenes = [s for s in story.scenes.values() if isinstance(s, SceneContext)]
    print(f"{'scene':>5} {'baseline us':>12} {'analyze us':>11} {'plan us':>9} "
          f"{'all us':>9} {'all/baseline':>13}")
    for scene in scenes:
        analysis = analyze_scene(scene)
        base = median_us(lambda s=scene: VideoParams(scene=scene_spec(s)), args.repeat)
        ana = median_us(lambda s=scene: analyze_scene(s), args.repeat)
        plan = median_us(lambda s=scene, a=analysis: plan_rules(s, a), args.repeat)
        everything = median_us(lambda s=scene: full(s), args.repeat)
        print(f"{scene.key:>5} {base:12.1f} {ana:11.1f} {plan:9.1f} {everything:9.1f} "
              f"{everything / base:13.1f}")


if __name__ == "__main__":
    main()
