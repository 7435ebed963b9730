"""API benchmark: response time of each read endpoint against a static file from the same app.

    .venv/bin/python bench/serve.py [--requests 50] [--scene 5]

Runs the example story's scene (embedded renderer) into a temporary output folder, then asks the
app in-process (ASGI, no network) for each endpoint ``--requests`` times. The baseline is
``/static/style.css`` from the same app in the same run: the cost of the framework itself.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from video_agent.context import VideoAgentContext
from video_agent.runner import run_story
from video_agent.serve.app import create_app
from video_agent.story import load_story

ROOT = Path(__file__).resolve().parents[1]


async def timed(http: httpx.AsyncClient, path: str, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = await http.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 206), (path, response.status_code)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--scene", default="5")
    args = parser.parse_args()
    story = load_story(ROOT / "examples/stories/morning_cafe.json")
    with tempfile.TemporaryDirectory() as out:
        await run_story(story, VideoAgentContext(output_dir=out, only_scenes=[args.scene]))
        app = create_app(Path(out))
        base = f"/api/stories/{story.story_id}"
        paths = {
            "static file (baseline)": "/static/style.css",
            "GET /api/stories": "/api/stories",
            "GET story status": base,
            "GET scene status + metadata": f"{base}/scenes/{args.scene}",
            "GET scene metadata.json": f"{base}/scenes/{args.scene}/metadata",
            "GET /metrics": "/metrics",
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            results = {name: await timed(http, path, args.requests)
                       for name, path in paths.items()}
            ranged = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = await http.get(f"{base}/scenes/{args.scene}/video",
                                          headers={"Range": "bytes=0-262143"})
                ranged.append(time.perf_counter() - started)
                assert response.status_code == 206
            results["GET video, 256 KiB range"] = statistics.median(ranged)
    floor = results["static file (baseline)"]
    print(f"median of {args.requests} requests each, in-process ASGI")
    print(f"{'endpoint':32} {'ms':>8} {'x baseline':>11}")
    for name, seconds in results.items():
        print(f"{name:32} {seconds * 1000:8.2f} {seconds / floor:11.1f}")


if __name__ == "__main__":
    asyncio.run(main())
