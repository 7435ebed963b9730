"""Story benchmark: the example story through the whole checkpointed graph, against the bare
work it contains (plan, render, assess each scene one after another, no graph, no storage).

    .venv/bin/python bench/story.py [--runs 3] [--story examples/stories/morning_cafe.json]

Each measurement runs in a fresh process (so peak memory is its own), on a fresh output folder:

- baseline: for every scene, ``plan_video`` -> ``render_clip`` -> ``assess_clip``, sequentially;
- story run with ``max_concurrency`` 1 and 2: ``run_story`` (image checks, planning, render,
  quality gate, atomic versioned storage, SQLite checkpoints, story summary);
- the same with ``max_concurrency`` 2 and LangGraph's default durability, ``"async"``
  (checkpoints written while the next step runs), to show what waiting for each costs.

Prints medians over ``--runs`` and each as a ratio to the baseline median of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
from video_agent.adapters.render import render_clip
from video_agent.quality import assess_clip
from video_agent.reasoning import analyze_scene, plan_video
from video_agent.story import load_story

story, out = load_story(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
for key, scene in story.scenes.items():
    analysis = analyze_scene(scene)
    params, _ = asyncio.run(plan_video(scene, analysis, narration=story.narration.get(key)))
    clip = out / f"scene_{key}.mp4"
    render_clip(scene.image_ref, clip, params.motion, motion_scale=params.generation.motion_scale)
    report = assess_clip(clip, scene.image_ref, params, work_dir=out)
    assert report.passed, report.reasons
wall = time.perf_counter() - started
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mb": rss_mb}))
"""

STORY_RUN = r"""
import asyncio, json, resource, sys, time
from video_agent import runner
from video_agent.context import VideoAgentContext
from video_agent.runner import run_story
from video_agent.story import load_story

if len(sys.argv) > 4:
    runner.DURABILITY = sys.argv[4]
story = load_story(sys.argv[1])
started = time.perf_counter()
run = asyncio.run(run_story(story, VideoAgentContext(output_dir=sys.argv[2]),
                            max_concurrency=int(sys.argv[3])))
wall = time.perf_counter() - started
assert not run.failed, run.errors
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mb": rss_mb}))
"""


def measure(code: str, *args: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", code, *args[:1], out, *args[1:]],
                              capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--story", default=str(ROOT / "examples/stories/morning_cafe.json"))
    args = parser.parse_args()
    variants = {"baseline (plan+render+assess, sequential)": (BASELINE, ()),
                "story run, max_concurrency 1": (STORY_RUN, ("1",)),
                "story run, max_concurrency 2": (STORY_RUN, ("2",)),
                "story run, max_concurrency 2, async checkpoints": (STORY_RUN, ("2", "async"))}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(args.runs):  # interleaved, so load changes hit every variant alike
        for name, (code, extra) in variants.items():
            results[name].append(measure(code, args.story, *extra))
    base = statistics.median(r["wall"] for r in results[next(iter(variants))])
    print(f"story {Path(args.story).name}, medians of {args.runs} runs")
    print(f"{'variant':48} {'wall s':>8} {'x base':>7} {'peak RSS MB':>12}")
    for name, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        print(f"{name:48} {wall:8.2f} {wall / base:7.2f} {rss:12.0f}")


if __name__ == "__main__":
    main()
